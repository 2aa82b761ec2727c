//! Compiles below the bar loop's priority: a compile takes tens to hundreds
//! of milliseconds of CPU, and on a small machine it would otherwise compete
//! as an equal with the loop for a core. At idle priority (`SCHED_IDLE`;
//! nice 19 where that is refused) the scheduler lets the loop preempt it as
//! soon as a bar arrives.
//!
//! The compile pool is one rayon pool per process whose threads all run at
//! idle priority. wasmtime's parallel compile (`Config::parallel_compilation`) fans
//! out on the rayon pool it is called from, so a compile started inside the
//! pool uses every core the loop leaves idle and none it needs.

use std::sync::OnceLock;

/// Compile threads at most: past this a component's functions are too few
/// to keep more threads busy, and each idle thread still costs a stack.
const MAX_COMPILE_THREADS: usize = 8;

/// Runs `f` on the low-priority compile pool and waits for it; on the
/// caller's thread if the pool could not be started.
pub(crate) fn run_low_priority<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    match compile_pool() {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// Threads in the compile pool: one per core, so a compile finishes as fast
/// as the machine allows when the loop is idle.
fn compile_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_COMPILE_THREADS)
}

fn compile_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(compile_threads())
            .thread_name(|i| format!("sandbar-compile-{i}"))
            .start_handler(|_| lower_this_threads_priority())
            .build()
            .inspect_err(|error| {
                tracing::warn!(%error, "cannot start the compile pool; compiling on the reload thread");
            })
            .ok()
    })
    .as_ref()
}

#[cfg(target_os = "linux")]
fn lower_this_threads_priority() {
    // SCHED_IDLE, not just nice 19: a waking normal thread preempts an idle
    // one at once, where a nice-19 thread may finish its slice first, and on
    // two cores that slice shows up in the loop's p99.9 (BENCHMARKS.md).
    // Both act on the calling thread only (pid 0 is this thread on Linux).
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: sched_setscheduler reads `param` only during the call.
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } == 0 {
        return;
    }
    let idle_error = std::io::Error::last_os_error();
    // SAFETY: setpriority has no memory-safety preconditions.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
    if rc != 0 {
        tracing::debug!(
            %idle_error,
            nice_error = %std::io::Error::last_os_error(),
            "cannot lower a compile thread's priority; compiling at normal priority"
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
        // The pool survives a panicking job.
        assert_eq!(run_low_priority(|| 7), 7);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn jobs_and_their_parallel_parts_run_at_idle_priority() {
        use rayon::prelude::*;
        fn policy() -> i32 {
            // SAFETY: sched_getscheduler has no memory-safety preconditions.
            unsafe { libc::sched_getscheduler(0) }
        }
        let caller = policy();
        let (job, parts) = run_low_priority(|| {
            let parts: Vec<i32> = (0..64).into_par_iter().map(|_| policy()).collect();
            (policy(), parts)
        });
        assert_eq!(job, libc::SCHED_IDLE);
        assert!(parts.iter().all(|&p| p == libc::SCHED_IDLE), "{parts:?}");
        assert_eq!(policy(), caller, "the caller's policy is untouched");
    }
}
