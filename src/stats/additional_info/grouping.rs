//! Grouping cases by (build name, test config, file, classname, name) with Python dict
//! semantics: equal keys by value (`1 == 1.0`), groups in first-seen order.

use super::*;

/// One group: its build/config and its cases, linked through [`Grouping::next`] (a million
/// groups of mostly one case each: no per-group allocation).
#[derive(Debug, Clone, Copy)]
pub struct Group {
    pub build_config: u32,
    pub first: u32,
    pub last: u32,
    pub len: u32,
}

pub(super) const END: u32 = u32::MAX;

/// The run's cases grouped as the reference's `_group_test_cases` does.
#[derive(Debug, Default)]
pub struct Grouping {
    /// (build name, test config) per distinct pair, indexed by `Group::build_config`.
    pub builds: Vec<(String, String)>,
    pub groups: Vec<Group>,
    /// Per case row: the next row of its group, or END.
    pub next: Vec<u32>,
    /// Job name of every file, by file index (`None` for files of bazel builds).
    pub file_job_names: Vec<Option<String>>,
}

impl Grouping {
    /// The case rows of a group, in run order.
    pub fn rows(&self, group: &Group) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(Some(group.first), |&r| {
            Some(self.next[r as usize]).filter(|&n| n != END)
        })
    }
}

/// Group every case; `file_job_ids` gives each file's job id (by file index).
pub fn group_cases(
    cases: &CaseTable,
    file_job_ids: &[Value],
    names: &HashMap<i64, String>,
) -> Grouping {
    let mut g = Grouping::default();
    let mut build_ids: HashMap<(String, String), u32> = HashMap::new();
    // A job's files share its name: each name is parsed (two regexes) once.
    let mut by_name: HashMap<String, Option<u32>> = HashMap::new();
    // Per file: the index into `builds`, or None for bazel builds (left out).
    let per_file: Vec<Option<u32>> = file_job_ids
        .iter()
        .map(|id| {
            let name = job_name(id, names);
            let build_id = *by_name.entry(name.clone()).or_insert_with(|| {
                let (build, config) = build_and_config(&name);
                if build.contains("bazel") {
                    return None;
                }
                let next = build_ids.len() as u32;
                let id = *build_ids
                    .entry((build.clone(), config.clone()))
                    .or_insert(next);
                if id == next {
                    g.builds.push((build, config));
                }
                Some(id)
            });
            g.file_job_names.push(build_id.map(|_| name));
            build_id
        })
        .collect();
    // A key is the case's 128-bit hash with the build/config folded in (an odd multiplier
    // keeps distinct pairs apart), its low 32 bits replaced by the row: 96 bits tell groups
    // apart (two of a million cases' differing tests agree on them with odds near 1e-17).
    // Cases of bazel builds are left out: they get the largest key, which no kept row's
    // key reaches (rows are below u32::MAX).
    const ROW: u128 = 0xffff_ffff;
    let keys = cases.group_keys_with(|row, key| match per_file[cases.file_index[row] as usize] {
        Some(bc) => {
            let mix = u128::from(bc + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
            ((key ^ mix) & !ROW) | row as u128
        }
        None => u128::MAX,
    });
    g.next = vec![END; cases.len()];
    let mut firsts = vec![0u64; cases.len().div_ceil(64)];
    let count = link_groups(&keys, BUCKET_BITS, &mut g.next, &mut firsts);
    drop(keys);
    // Groups in first-seen order, as a Python dict of groups: the marked rows in row order,
    // each group's last row and size read off its links.
    g.groups.reserve_exact(count);
    for (word_at, &word) in firsts.iter().enumerate() {
        let mut word = word;
        while word != 0 {
            let first = (word_at * 64 + word.trailing_zeros() as usize) as u32;
            word &= word - 1;
            let (mut last, mut len) = (first, 1);
            while g.next[last as usize] != END {
                last = g.next[last as usize];
                len += 1;
            }
            g.groups.push(Group {
                build_config: per_file[cases.file_index[first as usize] as usize]
                    .expect("kept rows have a build"),
                first,
                last,
                len,
            });
        }
    }
    g
}

/// Bits of the buckets [`link_groups`] counts keys in: 2 MiB of bits, a cache-sized table.
pub(super) const BUCKET_BITS: u32 = 24;

/// Link the rows of each group of `keys` (by row; a group is the keys that agree on all
/// but their low 32 bits, which hold the row; `u128::MAX` stands for a row left out): in
/// `next`, each row's next row in its group; in `firsts`, a bit per group's first row.
/// Returns the number of groups.
///
/// Nearly every group is one case (a test runs once per job): the keys are counted (to two)
/// in buckets of their top `bucket_bits` bits, and only those in a bucket with another key
/// are sorted to find their groups. Sorting every key cost about four times as much.
pub(super) fn link_groups(
    keys: &[u128],
    bucket_bits: u32,
    next: &mut [u32],
    firsts: &mut [u64],
) -> usize {
    let bucket = |key: u128| (key >> (128 - bucket_bits)) as usize;
    let words = (1usize << bucket_bits).div_ceil(64);
    let (mut once, mut twice) = (vec![0u64; words], vec![0u64; words]);
    for &key in keys.iter().filter(|&&k| k != u128::MAX) {
        let (word, bit) = (bucket(key) / 64, 1u64 << (bucket(key) % 64));
        twice[word] |= once[word] & bit;
        once[word] |= bit;
    }
    drop(once);
    let mut count = 0;
    let mut shared = Vec::new();
    for (row, &key) in keys.iter().enumerate() {
        if key == u128::MAX {
            continue;
        }
        let b = bucket(key);
        if twice[b / 64] & (1 << (b % 64)) != 0 {
            shared.push(key);
        } else {
            firsts[row / 64] |= 1 << (row % 64);
            count += 1;
        }
    }
    shared.sort_unstable();
    let row_of = |key: u128| (key & 0xffff_ffff) as u32;
    for run in shared.chunk_by(|a, b| a >> 32 == b >> 32) {
        for pair in run.windows(2) {
            next[row_of(pair[0]) as usize] = row_of(pair[1]);
        }
        let first = row_of(run[0]) as usize;
        firsts[first / 64] |= 1 << (first % 64);
        count += 1;
    }
    count
}
