//! Compiles below the bar loop's priority: a compile takes tens to hundreds
//! of milliseconds of CPU, and on a small machine it would otherwise compete
//! as an equal with the loop for a core. At nice 19 the scheduler lets the
//! loop preempt it as soon as a bar arrives.

use std::sync::Mutex;

/// Runs `f` on a fresh thread at the lowest CPU priority and waits for it;
/// on the caller's thread if no thread can be started. Spawning costs tens
/// of microseconds, nothing next to a compile.
pub(crate) fn run_low_priority<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let job = Mutex::new(Some(f));
    let take = || {
        job.lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
            .expect("the job runs once")
    };
    let spawned = std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("sandbar-compile".into())
            .spawn_scoped(scope, || {
                lower_this_threads_priority();
                take()()
            });
        match worker {
            Ok(handle) => Some(match handle.join() {
                Ok(out) => out,
                Err(panic) => std::panic::resume_unwind(panic),
            }),
            Err(error) => {
                tracing::warn!(%error, "cannot start a compile thread; compiling on this one");
                None
            }
        }
    });
    spawned.unwrap_or_else(|| take()())
}

#[cfg(target_os = "linux")]
fn lower_this_threads_priority() {
    // On Linux the nice value belongs to the thread: PRIO_PROCESS with
    // who = 0 changes only the calling thread.
    // SAFETY: setpriority has no memory-safety preconditions.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
    if rc != 0 {
        tracing::debug!(
            error = %std::io::Error::last_os_error(),
            "cannot lower the compile thread's priority; compiling at normal priority"
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_what_the_job_returns_and_propagates_its_panic() {
        let bytes = [1u8, 2, 3];
        assert_eq!(run_low_priority(|| bytes.len()), 3);
        let panicked = std::panic::catch_unwind(|| run_low_priority(|| panic!("boom")));
        assert!(panicked.is_err());
    }
}
