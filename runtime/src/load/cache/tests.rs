//! Each way an entry can be wrong, against real compiled code: none is ever
//! loaded, each is named, and the cache keeps working around it.

use super::*;
use crate::load::Tier;
use std::os::unix::fs::PermissionsExt;

const WAT: &str = r#"(component (core module (func (export "f"))))"#;

struct Fixture {
    _dir: tempfile::TempDir,
    cache: ArtifactCache,
    engine: wasmtime::Engine,
    artefact: Vec<u8>,
    sha: String,
}

fn fixture(max_mb: u64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let cache = ArtifactCache::open(&dir.path().join("cache"), max_mb).unwrap();
    let engine = crate::engine::new_engine().unwrap();
    let bytes = wat::parse_str(WAT).unwrap();
    let artefact = Component::new(&engine, &bytes)
        .unwrap()
        .serialize()
        .unwrap();
    Fixture {
        _dir: dir,
        cache,
        engine,
        artefact,
        sha: crate::hash::sha256_hex(&bytes),
    }
}

impl Fixture {
    fn stored(&self) -> PathBuf {
        self.cache
            .store(&self.engine, &self.sha, Tier::Optimized, &self.artefact)
            .unwrap();
        self.cache
            .dir()
            .join(EntryKey::new(&self.engine, &self.sha, Tier::Optimized).file_name())
    }

    fn problem(&self) -> Option<Problem> {
        self.cache
            .load(&self.engine, &self.sha, Tier::Optimized)
            .unwrap_err()
            .problem
    }

    /// After any warning the entry is gone: a miss, then a fresh store hits.
    fn recovers(&self) {
        assert!(
            self.cache
                .load(&self.engine, &self.sha, Tier::Optimized)
                .unwrap()
                .is_none()
        );
        self.stored();
        assert!(
            self.cache
                .load(&self.engine, &self.sha, Tier::Optimized)
                .unwrap()
                .is_some()
        );
    }
}

#[test]
fn issue_16_a_stored_artefact_loads_back_and_runs_the_same_code() {
    let f = fixture(64);
    assert!(
        f.cache
            .load(&f.engine, &f.sha, Tier::Optimized)
            .unwrap()
            .is_none(),
        "empty"
    );
    let path = f.stored();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let component = f
        .cache
        .load(&f.engine, &f.sha, Tier::Optimized)
        .unwrap()
        .unwrap();
    assert_eq!(component.serialize().unwrap(), f.artefact);
    let verdicts = f.cache.verify(&f.engine).unwrap();
    assert_eq!(verdicts.len(), 1);
    assert_eq!(verdicts[0].1, None, "{verdicts:?}");
    assert!(verdicts[0].0.current_engine);
}

#[test]
fn issue_16_cache_refuses_a_tampered_entry() {
    let f = fixture(64);
    let path = f.stored();
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let verdict = f.cache.verify(&f.engine).unwrap();
    assert_eq!(verdict[0].1.as_ref().map(|v| v.0), Some(Problem::Tampered));
    let warning = f
        .cache
        .load(&f.engine, &f.sha, Tier::Optimized)
        .unwrap_err();
    assert_eq!(warning.problem, Some(Problem::Tampered));
    assert!(
        warning.to_string().contains("MAC does not match"),
        "{warning}"
    );
    assert!(!path.exists(), "removed so the compile replaces it");
    f.recovers();
}

#[test]
fn issue_16_cache_refuses_a_truncated_entry() {
    let f = fixture(64);
    let path = f.stored();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    assert_eq!(f.problem(), Some(Problem::Truncated));
    f.recovers();
}

#[test]
fn issue_16_cache_refuses_an_entry_of_another_cache_key() {
    let f = fixture(64);
    let path = f.stored();
    let other_dir = tempfile::tempdir().unwrap();
    let other = ArtifactCache::open(other_dir.path(), 64).unwrap();
    other
        .store(&f.engine, &f.sha, Tier::Optimized, &f.artefact)
        .unwrap();
    let name = path.file_name().unwrap();
    std::fs::copy(other_dir.path().join(name), &path).unwrap();
    assert_eq!(f.problem(), Some(Problem::Foreign));
    f.recovers();
}

#[test]
fn issue_16_cache_refuses_an_entry_of_another_engine() {
    let f = fixture(64);
    // Code from an engine with other settings, framed and MAC'd by this very
    // cache, under the name the current engine looks up (a renamed file).
    let mut other = wasmtime::Config::new();
    other.wasm_component_model(true);
    let other = wasmtime::Engine::new(&other).unwrap();
    let foreign_code = Component::new(&other, wat::parse_str(WAT).unwrap())
        .unwrap()
        .serialize()
        .unwrap();
    f.cache
        .store(&other, &f.sha, Tier::Optimized, &foreign_code)
        .unwrap();
    let stale_name = EntryKey::new(&other, &f.sha, Tier::Optimized).file_name();
    let current = f
        .cache
        .dir()
        .join(EntryKey::new(&f.engine, &f.sha, Tier::Optimized).file_name());
    std::fs::copy(f.cache.dir().join(&stale_name), &current).unwrap();
    assert_eq!(f.problem(), Some(Problem::Stale));
    // The other engine's own entry, under its own name: found on the miss
    // (a wasmtime upgrade), reported and removed.
    let warning = f
        .cache
        .load(&f.engine, &f.sha, Tier::Optimized)
        .unwrap_err();
    assert_eq!(
        (warning.problem, warning.entry.as_str()),
        (Some(Problem::Stale), stale_name.as_str())
    );
    assert!(!f.cache.dir().join(&stale_name).exists());
    f.recovers();
}

#[test]
fn issue_16_cache_refuses_an_entry_of_the_wrong_tier() {
    let f = fixture(64);
    f.cache
        .store(&f.engine, &f.sha, Tier::Baseline, &f.artefact)
        .unwrap();
    let baseline = f
        .cache
        .dir()
        .join(EntryKey::new(&f.engine, &f.sha, Tier::Baseline).file_name());
    let optimized = f
        .cache
        .dir()
        .join(EntryKey::new(&f.engine, &f.sha, Tier::Optimized).file_name());
    std::fs::rename(&baseline, &optimized).unwrap();
    assert_eq!(f.problem(), Some(Problem::WrongTier));
    f.recovers();
}

#[test]
fn issue_16_cache_refuses_an_entry_of_another_component() {
    let f = fixture(64);
    let other_sha = "0f".repeat(32);
    f.cache
        .store(&f.engine, &other_sha, Tier::Optimized, &f.artefact)
        .unwrap();
    let theirs = f
        .cache
        .dir()
        .join(EntryKey::new(&f.engine, &other_sha, Tier::Optimized).file_name());
    let ours = f
        .cache
        .dir()
        .join(EntryKey::new(&f.engine, &f.sha, Tier::Optimized).file_name());
    std::fs::rename(&theirs, &ours).unwrap();
    assert_eq!(f.problem(), Some(Problem::WrongComponent));
    f.recovers();
}

#[test]
fn issue_16_a_full_disk_costs_only_a_warning() {
    let f = fixture(64);
    faults::fail_writes(f.cache.dir(), libc::ENOSPC);
    let warning = f
        .cache
        .store(&f.engine, &f.sha, Tier::Optimized, &f.artefact)
        .unwrap_err();
    assert_eq!(warning.kind(), "not_stored");
    assert!(
        warning.to_string().contains("No space left on device"),
        "{warning}"
    );
    let left: Vec<_> = std::fs::read_dir(f.cache.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, vec!["key".to_owned()], "no temporary file left");
    assert!(
        f.cache
            .load(&f.engine, &f.sha, Tier::Optimized)
            .unwrap()
            .is_none()
    );
}

#[test]
fn issue_16_eviction_keeps_the_cache_under_its_cap_least_recently_used_first() {
    let f = fixture(1);
    // Entries of about 300 KiB: three fit in 1 MiB, a fourth evicts.
    let padded: Vec<u8> = f
        .artefact
        .iter()
        .copied()
        .chain(std::iter::repeat_n(0, 300 << 10))
        .collect();
    let shas: Vec<String> = (0..6).map(|i| format!("{i:02x}").repeat(32)).collect();
    for (i, sha) in shas.iter().enumerate() {
        f.cache
            .store(&f.engine, sha, Tier::Optimized, &padded)
            .unwrap();
        // Mtimes are the LRU order: make them distinct whatever the clock's grain.
        let path = f
            .cache
            .dir()
            .join(EntryKey::new(&f.engine, sha, Tier::Optimized).file_name());
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000 + i as u64 * 10);
        std::fs::File::options()
            .append(true)
            .open(&path)
            .unwrap()
            .set_modified(at)
            .unwrap();
        if i == 2 {
            // Entry 0 is used again: entry 1 is now the least recently used.
            let zero = f
                .cache
                .dir()
                .join(EntryKey::new(&f.engine, &shas[0], Tier::Optimized).file_name());
            let later = at + std::time::Duration::from_secs(5);
            std::fs::File::options()
                .append(true)
                .open(&zero)
                .unwrap()
                .set_modified(later)
                .unwrap();
        }
        assert!(
            f.cache.total_bytes() <= f.cache.max_bytes(),
            "after store {i}"
        );
        if i == 4 {
            let kept: Vec<String> = f
                .cache
                .entries(&f.engine)
                .unwrap()
                .into_iter()
                .map(|e| e.sha256)
                .collect();
            assert!(
                kept.contains(&shas[0]),
                "the entry used again outlived older ones: {kept:?}"
            );
            assert!(
                !kept.contains(&shas[1]) && !kept.contains(&shas[2]),
                "{kept:?}"
            );
        }
    }
    let kept: Vec<String> = f
        .cache
        .entries(&f.engine)
        .unwrap()
        .into_iter()
        .map(|e| e.sha256)
        .collect();
    assert_eq!(kept.len(), 3, "{kept:?}");
    assert_eq!(kept, shas[3..].to_vec(), "least recently used first out");
    // An entry larger than the whole cache is not stored, and says why.
    let huge = vec![0u8; 2 << 20];
    let warning = f
        .cache
        .store(&f.engine, &f.sha, Tier::Optimized, &huge)
        .unwrap_err();
    assert!(
        warning.to_string().contains("runtime.cache_max_mb"),
        "{warning}"
    );
}

#[test]
fn issue_16_clear_removes_every_entry_or_one_component_and_keeps_the_key() {
    let f = fixture(64);
    f.stored();
    f.cache
        .store(&f.engine, &f.sha, Tier::Baseline, &f.artefact)
        .unwrap();
    f.cache
        .store(&f.engine, &"0e".repeat(32), Tier::Optimized, &f.artefact)
        .unwrap();
    assert_eq!(f.cache.clear(Some(&f.sha.to_uppercase())).unwrap(), 2);
    assert_eq!(f.cache.entries(&f.engine).unwrap().len(), 1);
    assert_eq!(f.cache.clear(None).unwrap(), 1);
    assert!(f.cache.dir().join("key").exists());
}

/// A component with a data segment, so its memory has a copy-on-write image.
const WAT_WITH_DATA: &str = r#"(component (core module
    (memory (export "m") 1)
    (data (i32.const 0) "sandbar")
    (func (export "f"))))"#;

fn fixture_with_data() -> Fixture {
    let mut f = fixture(64);
    let bytes = wat::parse_str(WAT_WITH_DATA).unwrap();
    f.artefact = Component::new(&f.engine, &bytes)
        .unwrap()
        .serialize()
        .unwrap();
    f.sha = crate::hash::sha256_hex(&bytes);
    f
}

#[test]
fn issue_18_a_cache_hit_maps_the_sealed_artefact_instead_of_copying_it() {
    let f = fixture_with_data();
    let path = f.stored();
    let Ok(sealed) = sealed::open(&f.cache.key, &path) else {
        panic!("the stored entry opens");
    };
    assert_eq!(sealed.header.artefact_len, f.artefact.len() as u64);
    // SAFETY: this cache stored it and its MAC matched.
    let (component, handed) = unsafe { sealed.deserialize(&f.engine) }.unwrap();
    assert_eq!(handed, sealed::Handed::Mapped, "no copy on Linux");
    let mut store = wasmtime::Store::new(&f.engine, ());
    store.set_fuel(1_000_000).unwrap();
    store.set_epoch_deadline(1_000);
    wasmtime::component::Linker::new(&f.engine)
        .instantiate(&mut store, &component)
        .expect("the mapped component instantiates");
}

#[test]
fn issue_18_the_checked_bytes_cannot_change_after_the_check() {
    use std::io::Write;
    let f = fixture_with_data();
    let path = f.stored();
    let Ok(sealed) = sealed::open(&f.cache.key, &path) else {
        panic!("the stored entry opens");
    };
    // The entry file changed in place after the check: what loads is what
    // was checked.
    let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.write_all(&vec![0xcc; 4096]).unwrap();
    drop(file);
    // SAFETY: this cache stored it and its MAC matched.
    let (component, _) = unsafe { sealed.deserialize(&f.engine) }.unwrap();
    assert_eq!(component.serialize().unwrap().len(), f.artefact.len());
    // And the checked copy itself cannot be written, through any path.
    use std::os::fd::AsRawFd;
    let again = format!("/proc/self/fd/{}", sealed.memfd.as_raw_fd());
    let write = std::fs::OpenOptions::new()
        .write(true)
        .open(&again)
        .and_then(|mut w| w.write_all(b"x"));
    assert!(write.is_err(), "a sealed memfd refuses writes");
    assert!(sealed.memfd.set_len(1).is_err(), "and a new length");
    // The changed file is refused at the next load, as any tampered entry.
    assert_eq!(f.problem(), Some(Problem::Tampered));
}
