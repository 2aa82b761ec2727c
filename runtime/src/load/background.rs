//! Compiles below the bar loop's priority: a compile takes tens to hundreds
//! of milliseconds of CPU, and on a small machine it would otherwise compete
//! as an equal with the loop for a core. At idle priority (`SCHED_IDLE`;
//! nice 19 where that is refused) the scheduler lets the loop preempt it as
//! soon as a bar arrives.
//!
//! Idle priority alone starves a compile on a machine whose CPUs are all
//! busy (issue 16: 41–54 s beside two CPU-bound processes, 206 ms quiet),
//! so the pool ages: a job that has run for a second moves the pool to
//! `SCHED_OTHER` at nice 10 until it is idle again. A new build does not
//! wait for it with `hot_reload.tiering = "auto"`: its baseline code is
//! compiled on the pipeline's thread, and only the tier-up runs here.
//!
//! The compile pool is one rayon pool per process whose threads all run at
//! idle priority. wasmtime's parallel compile (`Config::parallel_compilation`) fans
//! out on the rayon pool it is called from, so a compile started inside the
//! pool uses every core the loop leaves idle and none it needs.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Compile threads at most: past this a component's functions are too few
/// to keep more threads busy, and each idle thread still costs a stack.
const MAX_COMPILE_THREADS: usize = 8;

/// How long a compile may get no CPU at idle priority before the pool is
/// raised to [`STARVED_NICE`] (issue 16: beside two CPU-bound processes a
/// `SCHED_IDLE` compile took 41–54 s). On a machine with any idle CPU a
/// compile ends well within it, so the loop never competes with it.
const STARVED_AFTER: Duration = Duration::from_secs(1);

/// The nice value of a starved pool: `SCHED_OTHER` at nice 10 weighs 110
/// against a nice-0 process's 1024, about a tenth of a shared core, so a
/// compile ends in seconds beside busy processes and still yields to the
/// bar loop (nice 0) whenever a bar arrives.
const STARVED_NICE: i32 = 10;

/// Runs `f` on the low-priority compile pool and waits for it; on the
/// caller's thread if the pool could not be started.
pub(crate) fn run_low_priority<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    match compile_pool() {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// A rayon pool at idle priority that ages: when a job has run for
/// `starved_after` (it got too little CPU), its threads move to
/// `SCHED_OTHER` at [`STARVED_NICE`] until the pool is idle again, then back
/// to `SCHED_IDLE`. A watchdog thread does the moving (Linux lets a thread
/// set another's policy by its id).
struct CompilePool {
    pool: rayon::ThreadPool,
    aging: Arc<Aging>,
}

#[derive(Default)]
struct Aging {
    /// Thread ids of the pool's threads.
    threads: Mutex<Vec<i32>>,
    /// Jobs running now.
    active: AtomicUsize,
    /// When the pool last went from idle to busy, in ns after `epoch`.
    busy_since_ns: AtomicU64,
    /// The threads run at [`STARVED_NICE`] now.
    raised: AtomicBool,
    epoch: OnceLock<Instant>,
}

impl Aging {
    fn now_ns(&self) -> u64 {
        let epoch = self.epoch.get_or_init(Instant::now);
        u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn thread_ids(&self) -> Vec<i32> {
        self.threads
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// One look of the watchdog: raise a starved pool, lower an idle one.
    fn check(&self, starved_after: Duration) {
        let active = self.active.load(Ordering::Acquire) > 0;
        let raised = self.raised.load(Ordering::Relaxed);
        let busy_for = Duration::from_nanos(
            self.now_ns()
                .saturating_sub(self.busy_since_ns.load(Ordering::Relaxed)),
        );
        if active && !raised && busy_for >= starved_after {
            tracing::info!(
                busy_ms = busy_for.as_millis() as u64,
                nice = STARVED_NICE,
                "a compile got no CPU at idle priority; raising the compile pool"
            );
            for tid in self.thread_ids() {
                set_thread_priority(tid, Priority::Starved);
            }
            self.raised.store(true, Ordering::Relaxed);
        } else if !active && raised {
            for tid in self.thread_ids() {
                set_thread_priority(tid, Priority::Idle);
            }
            self.raised.store(false, Ordering::Relaxed);
        }
    }
}

/// Counts a job as running while it lives (a panicking job included).
struct Running<'a>(&'a Aging);

impl<'a> Running<'a> {
    fn start(aging: &'a Aging) -> Self {
        if aging.active.fetch_add(1, Ordering::AcqRel) == 0 {
            aging.busy_since_ns.store(aging.now_ns(), Ordering::Relaxed);
        }
        Running(aging)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

impl CompilePool {
    fn new(threads: usize, starved_after: Duration) -> Result<Self, rayon::ThreadPoolBuildError> {
        let aging = Arc::new(Aging::default());
        let registered = Arc::clone(&aging);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("sandbar-compile-{i}"))
            .start_handler(move |_| {
                lower_this_threads_priority();
                if let Some(tid) = this_thread_id() {
                    registered
                        .threads
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .push(tid);
                }
            })
            .build()?;
        let weak = Arc::downgrade(&aging);
        let watchdog = std::thread::Builder::new()
            .name("sandbar-compile-aging".into())
            .spawn(move || {
                let step = (starved_after / 4).max(Duration::from_millis(10));
                while let Some(aging) = weak.upgrade() {
                    aging.check(starved_after);
                    drop(aging);
                    std::thread::sleep(step);
                }
            });
        if let Err(error) = watchdog {
            tracing::warn!(%error, "cannot start the compile pool's watchdog; a starved compile stays at idle priority");
        }
        Ok(Self { pool, aging })
    }

    fn install<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let _running = Running::start(&self.aging);
        self.pool.install(f)
    }
}

/// Threads in the compile pool: one per core, so a compile finishes as fast
/// as the machine allows when the loop is idle.
fn compile_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_COMPILE_THREADS)
}

fn compile_pool() -> Option<&'static CompilePool> {
    static POOL: OnceLock<Option<CompilePool>> = OnceLock::new();
    POOL.get_or_init(|| {
        CompilePool::new(compile_threads(), STARVED_AFTER)
            .inspect_err(|error| {
                tracing::warn!(%error, "cannot start the compile pool; compiling on the reload thread");
            })
            .ok()
    })
    .as_ref()
}

#[derive(Clone, Copy)]
enum Priority {
    Idle,
    Starved,
}

#[cfg(target_os = "linux")]
fn this_thread_id() -> Option<i32> {
    // SAFETY: gettid has no preconditions.
    Some(unsafe { libc::gettid() })
}

#[cfg(not(target_os = "linux"))]
fn this_thread_id() -> Option<i32> {
    None
}

/// Moves thread `tid` of this process to a priority; best effort (a
/// refusal is logged at debug and the thread stays as it was).
#[cfg(target_os = "linux")]
fn set_thread_priority(tid: i32, priority: Priority) {
    let param = libc::sched_param { sched_priority: 0 };
    let (policy, nice) = match priority {
        Priority::Idle => (libc::SCHED_IDLE, 19),
        Priority::Starved => (libc::SCHED_OTHER, STARVED_NICE),
    };
    // SAFETY: sched_setscheduler reads `param` only during the call.
    let set = unsafe { libc::sched_setscheduler(tid, policy, &param) };
    // SAFETY: setpriority has no memory-safety preconditions.
    let niced = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice) };
    if set != 0 || niced != 0 {
        tracing::debug!(
            tid,
            error = %std::io::Error::last_os_error(),
            "cannot change a compile thread's priority"
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn set_thread_priority(_tid: i32, _priority: Priority) {}

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

    /// The pool is one per process and the aging test raises its policy:
    /// the tests that read the policy take turns.
    static POOL_POLICY: std::sync::Mutex<()> = std::sync::Mutex::new(());

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
        let _pool = POOL_POLICY.lock().unwrap_or_else(|e| e.into_inner());
        use rayon::prelude::*;
        fn policy() -> i32 {
            // SAFETY: sched_getscheduler has no memory-safety preconditions.
            unsafe { libc::sched_getscheduler(0) }
        }
        let caller = policy();
        // A pool of its own, the size of the process's, that never ages in
        // this test: the process's pool is raised whenever another test's
        // compile runs over a second on a loaded machine.
        let pool = CompilePool::new(compile_threads(), Duration::from_secs(3600)).unwrap();
        let (job, parts) = pool.install(|| {
            let parts: Vec<i32> = (0..64).into_par_iter().map(|_| policy()).collect();
            (policy(), parts)
        });
        assert_eq!(job, libc::SCHED_IDLE);
        assert!(parts.iter().all(|&p| p == libc::SCHED_IDLE), "{parts:?}");
        assert_eq!(policy(), caller, "the caller's policy is untouched");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn issue_16_a_starved_compile_is_raised_off_idle_priority_and_put_back_when_the_pool_is_idle() {
        let _pool = POOL_POLICY.lock().unwrap_or_else(|e| e.into_inner());
        fn policy() -> i32 {
            // SAFETY: sched_getscheduler has no memory-safety preconditions.
            unsafe { libc::sched_getscheduler(0) }
        }
        // Its own pool (the process's pool is shared with other tests),
        // which counts as starved after 100 ms.
        let pool = CompilePool::new(1, Duration::from_millis(100)).unwrap();
        let (first, later) = pool.install(|| {
            let first = policy();
            // A job that runs long, as one without CPU does.
            let start = Instant::now();
            let mut later = first;
            while start.elapsed() < Duration::from_secs(5) && later == first {
                std::thread::sleep(Duration::from_millis(10));
                later = policy();
            }
            (first, later)
        });
        assert_eq!(first, libc::SCHED_IDLE, "a job starts at idle priority");
        assert_eq!(later, libc::SCHED_OTHER, "a long job is raised");
        let start = Instant::now();
        let mut back = libc::SCHED_OTHER;
        while start.elapsed() < Duration::from_secs(5) && back != libc::SCHED_IDLE {
            std::thread::sleep(Duration::from_millis(50));
            back = pool.pool.install(policy);
        }
        assert_eq!(
            back,
            libc::SCHED_IDLE,
            "an idle pool goes back to idle priority"
        );
    }
}
