//! A read whose two consumers run at once: each chunk goes to one on this
//! thread and to the other on a helper thread, so the slower of the two
//! sets the time instead of their sum.
//!
//! Why: a Python strategy's 18 MB component is read into memory (7 ms with
//! its page faults) and hashed with SHA-256 (17 ms here); its 40 MB
//! artefact is checked with its MAC (7 ms) and written into a memfd (16 ms,
//! `cache/sealed.rs`). Done one after the other they were most of a
//! 70 ms restart. Each consumer sees every byte exactly once, in order, so
//! what is hashed is still exactly what is kept.

use std::io::Read;
use std::sync::mpsc;

/// Bytes per chunk: a few of them stay in the L2 cache between the
/// consumers.
const CHUNK: usize = 256 << 10;

/// Chunks in flight between the two threads.
const IN_FLIGHT: usize = 4;

/// Below this many bytes expected, both consumers run on this thread: a
/// helper thread would cost more than it saves.
const OVERLAP_FROM: u64 = 4 * CHUNK as u64;

/// Reads `reader` to its end; `here` gets each chunk on this thread, then
/// `helper` gets it on a scoped helper thread while the next one is read
/// (or on this thread too when fewer than `OVERLAP_FROM` bytes are
/// `expected`). The bytes read, or the first error of the read or of either
/// consumer.
pub fn read_overlapped<R, H, T>(
    mut reader: R,
    expected: u64,
    mut here: H,
    mut helper: T,
) -> std::io::Result<u64>
where
    R: Read,
    H: FnMut(&[u8]) -> std::io::Result<()>,
    T: FnMut(&[u8]) -> std::io::Result<()> + Send,
{
    if expected < OVERLAP_FROM {
        let mut buffer = vec![0; CHUNK];
        let mut total = 0u64;
        loop {
            let n = fill(&mut reader, &mut buffer)?;
            if n == 0 {
                return Ok(total);
            }
            here(&buffer[..n])?;
            helper(&buffer[..n])?;
            total += n as u64;
        }
    }
    let (filled_tx, filled_rx) = mpsc::sync_channel::<(Vec<u8>, usize)>(IN_FLIGHT);
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    for _ in 0..IN_FLIGHT {
        // Cannot fail: the receiver is alive.
        let _ = free_tx.send(vec![0; CHUNK]);
    }
    std::thread::scope(|scope| {
        let worker = crate::threads::spawn_scoped(scope, "sandbar-read", move || {
            consume(filled_rx, free_tx, helper)
        })?;
        let mut total = 0u64;
        let read = (|| {
            loop {
                let Ok(mut buffer) = free_rx.recv() else {
                    // The helper stopped early: its error is the answer.
                    return Ok(());
                };
                let n = fill(&mut reader, &mut buffer)?;
                if n == 0 {
                    return Ok(());
                }
                here(&buffer[..n])?;
                total += n as u64;
                if filled_tx.send((buffer, n)).is_err() {
                    return Ok(());
                }
            }
        })();
        drop(filled_tx);
        let helped = worker
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the read's helper thread panicked")));
        read.and(helped).map(|()| total)
    })
}

/// The helper's side: every chunk in order, each buffer handed back.
fn consume<T>(
    filled: mpsc::Receiver<(Vec<u8>, usize)>,
    free: mpsc::Sender<Vec<u8>>,
    mut helper: T,
) -> std::io::Result<()>
where
    T: FnMut(&[u8]) -> std::io::Result<()>,
{
    for (buffer, n) in filled {
        helper(&buffer[..n])?;
        // The reader may be done and gone: nothing more to hand back to.
        let _ = free.send(buffer);
    }
    Ok(())
}

/// Reads until `buffer` is full or the reader ends; the bytes read.
fn fill(reader: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buffer.len() {
        match reader.read(&mut buffer[n..]) {
            Ok(0) => break,
            Ok(got) => n += got,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_consumers_see_every_byte_once_in_order() {
        let data: Vec<u8> = (0..(CHUNK * 9 + 123)).map(|i| (i % 251) as u8).collect();
        let mut here = Vec::new();
        let mut there = Vec::new();
        let total = read_overlapped(
            &data[..],
            data.len() as u64,
            |c| {
                here.extend_from_slice(c);
                Ok(())
            },
            |c| {
                there.extend_from_slice(c);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(total, data.len() as u64);
        assert!(here == data && there == data);
        // Expecting a small file, on one thread: the same bytes.
        let (mut one, mut two) = (Vec::new(), Vec::new());
        let small = read_overlapped(
            &data[..],
            1,
            |c| {
                one.extend_from_slice(c);
                Ok(())
            },
            |c| {
                two.extend_from_slice(c);
                Ok(())
            },
        )
        .unwrap();
        assert!(small == total && one == data && two == data);
        let empty = read_overlapped(&[][..], u64::MAX, |_| Ok(()), |_| Ok(())).unwrap();
        assert_eq!(empty, 0);
    }

    #[test]
    fn an_error_of_either_consumer_or_of_the_read_is_the_result() {
        let data = vec![1u8; CHUNK * 8];
        let fail_at = |limit: usize| {
            let mut seen = 0;
            move |c: &[u8]| {
                seen += c.len();
                if seen > limit {
                    Err(std::io::Error::other(format!("failed after {limit}")))
                } else {
                    Ok(())
                }
            }
        };
        let n = data.len() as u64;
        let helper = read_overlapped(&data[..], n, |_| Ok(()), fail_at(CHUNK * 2)).unwrap_err();
        assert_eq!(helper.to_string(), format!("failed after {}", CHUNK * 2));
        let here = read_overlapped(&data[..], n, fail_at(CHUNK), |_| Ok(())).unwrap_err();
        assert_eq!(here.to_string(), format!("failed after {CHUNK}"));
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk gone"))
            }
        }
        let read = read_overlapped(Broken, n, |_| Ok(()), |_| Ok(())).unwrap_err();
        assert_eq!(read.to_string(), "disk gone");
    }
}
