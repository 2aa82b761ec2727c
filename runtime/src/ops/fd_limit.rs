//! File descriptors: the ops API must never take the ones the runtime needs
//! for its own work (strategy files, the journal, the watcher). 10,000 idle
//! connections once took 11,000 descriptors, and under `ulimit -n 1024` the
//! runtime then could not open a strategy file. At start the soft
//! `RLIMIT_NOFILE` is raised to the hard limit where the OS allows, and the
//! connection cap is held below what that limit leaves after a reserve.

/// Descriptors kept for the runtime beyond those open when the server starts.
pub const FD_RESERVE: u64 = 128;

/// The most the soft limit is raised to, whatever the hard limit says.
const RAISE_AT_MOST: u64 = 1 << 20;

/// What [`budget`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdBudget {
    /// The soft limit before the server started.
    pub soft_before: u64,
    /// The soft limit now (raised, or as it was).
    pub soft: u64,
    /// The hard limit.
    pub hard: u64,
    /// Descriptors open when the server started.
    pub open: u64,
}

impl FdBudget {
    /// The connections the server may hold: `wanted`, or fewer when the
    /// limit leaves less after what is open and [`FD_RESERVE`]; at least 1.
    pub fn connection_cap(&self, wanted: usize) -> usize {
        let room = self.soft.saturating_sub(self.open + FD_RESERVE).max(1);
        wanted.min(usize::try_from(room).unwrap_or(usize::MAX))
    }
}

/// Raises the soft open-file limit to the hard one (at most 2^20) and says
/// what is open now. `None` where the limit cannot be read.
pub fn budget() -> Option<FdBudget> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own; nothing else is touched.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    let soft_before = limit.rlim_cur;
    let hard = limit.rlim_max;
    let target = hard.min(RAISE_AT_MOST);
    let mut soft = soft_before;
    if target > soft_before {
        let raised = libc::rlimit {
            rlim_cur: target,
            rlim_max: hard,
        };
        // SAFETY: setrlimit reads the struct we own; a refusal leaves the limit as it was.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            soft = target;
        }
    }
    Some(FdBudget {
        soft_before,
        soft,
        hard,
        open: open_descriptors(),
    })
}

/// Descriptors open in this process (Linux: `/proc/self/fd`; 0 elsewhere).
fn open_descriptors() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(soft: u64, open: u64) -> FdBudget {
        FdBudget {
            soft_before: soft,
            soft,
            hard: soft,
            open,
        }
    }

    #[test]
    fn the_cap_leaves_the_reserve_to_the_runtime() {
        assert_eq!(at(1_048_576, 20).connection_cap(256), 256);
        assert_eq!(at(1024, 20).connection_cap(256), 256);
        // `ulimit -n 256`: 20 open and 128 kept leave 108.
        assert_eq!(at(256, 20).connection_cap(256), 108);
        // A limit below the reserve still serves one connection.
        assert_eq!(at(64, 20).connection_cap(256), 1);
    }

    #[test]
    fn the_soft_limit_is_raised_as_far_as_the_hard_one_allows() {
        let budget = budget().expect("RLIMIT_NOFILE is readable on this OS");
        assert!(budget.soft >= budget.soft_before, "{budget:?}");
        assert!(budget.soft <= budget.hard, "{budget:?}");
        assert_eq!(
            budget.soft,
            budget.hard.min(RAISE_AT_MOST).max(budget.soft_before)
        );
        assert!(budget.open > 0, "stdin, stdout, stderr at least");
    }
}
