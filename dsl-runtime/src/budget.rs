//! How much memory a search may take: a budget (from a flag, or a share of
//! what the machine, the cgroup and `ulimit -v` leave), and the process's
//! resident memory to hold it against. Every search reads these — the
//! invariant checker's meter ([`crate::check::memory`]) and the graph
//! search ([`crate::search`]) — so they live in the core.

/// Bytes in a mebibyte.
const MIB: u64 = 1 << 20;

/// Which share of the available memory a check takes by default:
/// three quarters (the rest is for the program, the allocator's slack and
/// the machine's other processes).
pub const DEFAULT_SHARE: (u64, u64) = (3, 4);

/// How much memory a check may hold, and where that figure came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryBudget {
    /// The budget in bytes (`u64::MAX`: unlimited).
    pub bytes: u64,
    /// Where it came from, as the report says it (`--memory`, `default:
    /// 3/4 of 20.1 GiB available`).
    pub source: String,
}

impl MemoryBudget {
    /// A budget of `bytes`, said to come from `source`.
    pub fn new(bytes: u64, source: impl Into<String>) -> Self {
        MemoryBudget {
            bytes,
            source: source.into(),
        }
    }

    /// No budget: the search may hold whatever it needs.
    pub fn unlimited() -> Self {
        MemoryBudget::new(u64::MAX, "unlimited")
    }

    /// The default: [`DEFAULT_SHARE`] of the memory available to this
    /// process now ([`available_memory`]); unlimited where the platform
    /// does not say.
    pub fn default_share() -> Self {
        match available_memory() {
            Some((bytes, from)) => MemoryBudget::new(
                bytes / DEFAULT_SHARE.1 * DEFAULT_SHARE.0,
                format!(
                    "default: {}/{} of the {} {from}",
                    DEFAULT_SHARE.0,
                    DEFAULT_SHARE.1,
                    format_bytes(bytes)
                ),
            ),
            None => MemoryBudget::new(u64::MAX, "unlimited (the platform reports no memory size)"),
        }
    }

    /// Whether there is no budget.
    pub fn is_unlimited(&self) -> bool {
        self.bytes == u64::MAX
    }
}

impl std::fmt::Display for MemoryBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_unlimited() {
            f.write_str(&self.source)
        } else {
            write!(f, "{} ({})", format_bytes(self.bytes), self.source)
        }
    }
}

/// The memory this process can still take, and what limits it, on Linux:
/// the least of the system's available memory (`MemAvailable` in
/// `/proc/meminfo`), the room left under the process's cgroup limit
/// (`memory.max` less `memory.current`, cgroup v2) and under its
/// address-space limit (`ulimit -v`).
pub fn available_memory() -> Option<(u64, &'static str)> {
    let mut best: Option<(u64, &'static str)> = None;
    let mut take = |bytes: u64, from: &'static str| {
        if best.is_none_or(|(b, _)| bytes < b) {
            best = Some((bytes, from));
        }
    };
    if let Some(avail) = meminfo("MemAvailable:") {
        take(avail, "available");
    }
    if let Some(room) = cgroup_room() {
        take(room, "left under the cgroup's memory.max");
    }
    if let Some(room) = address_space_room() {
        take(room, "left under the address-space limit (ulimit -v)");
    }
    best
}

/// A `/proc/meminfo` field, in bytes.
fn meminfo(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Room under this process's cgroup v2 memory limit, if it has one.
fn cgroup_room() -> Option<u64> {
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = cgroups.lines().find_map(|l| l.strip_prefix("0::"))?;
    let mut dir = std::path::PathBuf::from("/sys/fs/cgroup");
    dir.push(path.trim_start_matches('/'));
    // The tightest limit on the way up to the root.
    let mut room: Option<u64> = None;
    loop {
        let max = std::fs::read_to_string(dir.join("memory.max")).ok();
        if let Some(max) = max.and_then(|m| m.trim().parse::<u64>().ok()) {
            let current = std::fs::read_to_string(dir.join("memory.current"))
                .ok()
                .and_then(|c| c.trim().parse::<u64>().ok())
                .unwrap_or(0);
            let here = max.saturating_sub(current);
            room = Some(room.map_or(here, |r| r.min(here)));
        }
        if !dir.pop() || dir.as_os_str() == "/sys/fs" {
            break;
        }
    }
    room
}

/// Room under `RLIMIT_AS`, if set.
fn address_space_room() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one rlimit into the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut lim) } != 0
            || lim.rlim_cur == libc::RLIM_INFINITY
        {
            return None;
        }
        let size = status_kib("VmSize:").unwrap_or(0) * 1024;
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
        let cur = lim.rlim_cur as u64;
        Some(cur.saturating_sub(size))
    }
    #[cfg(not(target_os = "linux"))]
    None
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The process's resident memory now (`VmRSS`), on Linux.
pub fn resident_bytes() -> Option<u64> {
    status_kib("VmRSS:").map(|k| k * 1024)
}

/// Why a memory size (`--memory`) could not be read. The message names the
/// text given and says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// A share whose number does not parse (`abc%`).
    #[error("`{0}`: a share is a number followed by %, like 50%")]
    BadShare(String),
    /// A share of 0% or less, or over 100%.
    #[error("`{0}`: a share lies between 0% and 100%")]
    ShareOutOfRange(String),
    /// A share asked for on a platform that does not report its memory.
    #[error("`{0}`: this platform does not report its memory; give a size like 2GiB")]
    NoMemoryInfo(String),
    /// No number where the size should start.
    #[error("`{0}`: a memory size is a number with an optional unit, like 2GiB, 512M or 75%")]
    BadNumber(String),
    /// A unit other than K, M, G or T.
    #[error("`{text}`: unknown unit `{unit}`; use K, M, G or T (powers of 1024), a share like 75%, or unlimited")]
    UnknownUnit {
        /// The whole text given.
        text: String,
        /// The unit that was not understood.
        unit: String,
    },
    /// Less than one byte, or more than a `u64` holds.
    #[error("`{0}`: give a size of at least one byte")]
    OutOfRange(String),
}

/// Parses a memory size: a number of bytes with an optional unit `K`,
/// `M`, `G` or `T` (powers of 1024, with or without `iB` or `B`, any
/// case: `512MiB`, `2G`, `1.5GiB`), a share of the available memory
/// (`50%`), or `unlimited`.
pub fn parse_size(text: &str) -> Result<MemoryBudget, SizeError> {
    let t = text.trim();
    let given = || text.to_string();
    if t.eq_ignore_ascii_case("unlimited") || t.eq_ignore_ascii_case("none") {
        return Ok(MemoryBudget::unlimited());
    }
    if let Some(pct) = t.strip_suffix('%') {
        let p: f64 = pct
            .trim()
            .parse()
            .map_err(|_| SizeError::BadShare(given()))?;
        if p.is_nan() || p <= 0.0 || p > 100.0 {
            return Err(SizeError::ShareOutOfRange(given()));
        }
        let (avail, from) = available_memory().ok_or_else(|| SizeError::NoMemoryInfo(given()))?;
        let bytes = (avail as f64 * p / 100.0) as u64;
        return Ok(MemoryBudget::new(
            bytes,
            format!("--memory {pct}% of the {} {from}", format_bytes(avail)),
        ));
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| SizeError::BadNumber(given()))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => {
            return Err(SizeError::UnknownUnit {
                text: given(),
                unit: other.to_string(),
            })
        }
    };
    let bytes = n * scale as f64;
    if bytes.is_nan() || bytes < 1.0 || bytes >= u64::MAX as f64 {
        return Err(SizeError::OutOfRange(given()));
    }
    Ok(MemoryBudget::new(bytes as u64, "--memory"))
}

/// `bytes` with a binary unit: `512.0 MiB`, `2.00 GiB`.
pub fn format_bytes(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.2} GiB", bytes as f64 / (1u64 << 30) as f64)
    } else if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}
