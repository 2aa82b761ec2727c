//! An entry loaded without copying its artefact through the heap: the
//! artefact is copied into a memfd (its MAC computed on the way), the memfd
//! is sealed, and wasmtime maps it as it would a `.cwasm` file.
//!
//! Why: a Python component's artefact is 40 MB. Read into a `Vec`, then
//! copied by `Component::deserialize` into wasmtime's own mapping, then its
//! 30 MB of data segments copied a third time into the memfd wasmtime makes
//! for copy-on-write memory images, a cache hit cost 82 ms of which the
//! copies and their page faults were most. Mapped from a file whose data
//! segments are page-aligned, wasmtime needs no copy at all: the code is
//! mapped and the memory images map the same pages.
//!
//! Why a memfd and not the entry file itself: what is checked must be what
//! runs. A mapping of the entry file would read its pages after the check,
//! so a file changed in between would run unchecked code. A memfd sealed
//! against writes, growth and shrinking before the check can never change
//! again, however it is opened: the bytes the MAC covered are the bytes
//! wasmtime maps. (The entry file cannot be mapped directly for another
//! reason too: its artefact starts 104 bytes in, not on a page.)

use super::entry::{self, HEADER_LEN, Header, MAC_LEN, MacKey, Problem};
use super::key::EntryKey;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::Path;
use wasmtime::component::Component;

/// A checked artefact in a sealed memfd.
pub struct SealedArtefact {
    pub(super) memfd: File,
    pub header: Header,
}

/// Why an entry was not opened: it could not be read, or it is not a good
/// entry (the problem and its details).
pub enum OpenError {
    Io(std::io::Error),
    Bad(Problem, String),
}

impl From<std::io::Error> for OpenError {
    fn from(e: std::io::Error) -> Self {
        OpenError::Io(e)
    }
}

/// Opens the entry at `path`: its framing, then its artefact copied into a
/// memfd with the MAC of exactly what was written, then the seals.
pub fn open(mac_key: &MacKey, path: &Path) -> Result<SealedArtefact, OpenError> {
    let mut file = File::open(path)?;
    let total = file.metadata()?.len();
    let mut head = Vec::with_capacity(HEADER_LEN);
    (&mut file).take(HEADER_LEN as u64).read_to_end(&mut head)?;
    let artefact_len = entry::check_frame(mac_key, &head, total).map_err(bad)?;
    let memfd = memfd::MemfdOptions::new()
        .allow_sealing(true)
        .close_on_exec(true)
        .create("sandbar-artefact")
        .map_err(|e| std::io::Error::other(format!("memfd_create: {e}")))?;
    // The MAC is computed over the very bytes written to the memfd, chunk
    // by chunk (the MAC here, the write on a helper thread: `overlapped.rs`):
    // the memfd is never read back, and what the file does meanwhile cannot
    // matter.
    let mut mac = entry::MacCheck::new(mac_key, &head);
    let mut out = memfd.as_file();
    let copied = crate::load::overlapped::read_overlapped(
        (&mut file).take(artefact_len),
        artefact_len,
        |chunk| {
            mac.update(chunk);
            Ok(())
        },
        |chunk| out.write_all(chunk),
    )?;
    if copied != artefact_len {
        return Err(bad((
            Problem::Truncated,
            format!("its artefact ended after {copied} of {artefact_len} bytes"),
        )));
    }
    let mut tag = [0u8; MAC_LEN];
    file.seek(SeekFrom::Start(HEADER_LEN as u64 + artefact_len))?;
    file.read_exact(&mut tag)?;
    use memfd::FileSeal::{SealGrow, SealSeal, SealShrink, SealWrite};
    memfd
        .add_seals(&[SealWrite, SealShrink, SealGrow, SealSeal])
        .map_err(|e| std::io::Error::other(format!("sealing the memfd: {e}")))?;
    let header = mac.finish(artefact_len, &tag).map_err(bad)?;
    let memfd = memfd.into_file();
    Ok(SealedArtefact { memfd, header })
}

/// [`open`], then the header must name exactly `key` (as
/// [`entry::open_for`] does for an entry held in memory).
pub fn open_for(
    mac_key: &MacKey,
    key: &EntryKey,
    path: &Path,
) -> Result<SealedArtefact, OpenError> {
    let sealed = open(mac_key, path)?;
    entry::names(&sealed.header, key).map_err(bad)?;
    Ok(sealed)
}

fn bad((problem, message): (Problem, String)) -> OpenError {
    OpenError::Bad(problem, message)
}

/// How [`SealedArtefact::deserialize`] handed the bytes to wasmtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handed {
    /// Mapped from the memfd: no copy.
    Mapped,
    /// Copied from the memfd's mapping (the kernel would not map it).
    Copied,
}

impl SealedArtefact {
    /// The component, mapped from the memfd; copied from it if this kernel
    /// will not map it (a memfd made non-executable by the
    /// `vm.memfd_noexec` sysctl, a `/proc` that is not mounted).
    ///
    /// # Safety
    ///
    /// As for [`Component::deserialize`]: the bytes must be wasmtime's own
    /// output for this engine. The caller has checked the MAC of exactly
    /// these bytes (sealed: they cannot change) and the header's names.
    pub unsafe fn deserialize(
        &self,
        engine: &wasmtime::Engine,
    ) -> wasmtime::Result<(Component, Handed)> {
        let path = format!("/proc/self/fd/{}", self.memfd.as_raw_fd());
        // SAFETY: the caller's contract; the file behind the path is the
        // sealed memfd.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => Ok((component, Handed::Mapped)),
            Err(mapped) => {
                tracing::debug!(
                    error = %format!("{mapped:#}"),
                    "artefact not mapped from its memfd; copying it instead"
                );
                // SAFETY: a mapping's bytes may change under it if the file
                // is written; this one is sealed against writes, growth and
                // shrinking, and the seals themselves are sealed.
                let map = unsafe { memmap2::Mmap::map(&self.memfd)? };
                // SAFETY: the caller's contract.
                unsafe { Component::deserialize(engine, &map[..]) }
                    .map(|component| (component, Handed::Copied))
            }
        }
    }
}
