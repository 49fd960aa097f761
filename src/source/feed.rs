//! A listing that grows while the run downloads. A source whose archives' folders are known
//! before their bytes (a bucket's keys name them, `unzipped-<stem>`; a GitHub archive's
//! tail does) publishes each folder's reports as soon as its archives, and every folder
//! before it, are here; the load parses them while the rest downloads. Folders are published in the listing's order, so the
//! files come out exactly as [`Listing::finish`] would order the whole run.

use std::sync::{Condvar, Mutex, MutexGuard};

use super::{AuxFile, Listing, ReportFile};

/// Reports (and td_exclusions files and problems) published so far, in order.
#[derive(Debug, Default)]
pub struct Feed {
    state: Mutex<State>,
    grown: Condvar,
}

#[derive(Debug, Default)]
struct State {
    reports: Vec<ReportFile>,
    td_exclusions: Vec<AuxFile>,
    /// Problems with the position of what they concern in the source's own order, so
    /// that they come out in that order whatever order downloads finish in.
    problems: Vec<(usize, String, String)>,
    closed: bool,
    /// Compressed bytes of the archives published so far, and of all of them; uncompressed
    /// report bytes published so far: an estimate of the run's size before it is all here.
    compressed_published: u64,
    compressed_total: u64,
    xml_published: u64,
}

impl Feed {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("no panics while held")
    }

    /// A feed of archives weighing `compressed` bytes in all.
    pub fn new(compressed: u64) -> Self {
        let feed = Self::default();
        feed.lock().compressed_total = compressed;
        feed
    }

    /// Add the next folder (or folders): `part`'s reports and td_exclusions files, in order
    /// after everything published before; its archives weighed `compressed` bytes.
    pub fn publish(&self, mut part: Listing, compressed: u64) {
        part.finish();
        let mut state = self.lock();
        state.compressed_published += compressed;
        state.xml_published += part.reports.iter().map(|r| r.size).sum::<u64>();
        state.reports.append(&mut part.reports);
        state.td_exclusions.append(&mut part.td_exclusions);
        self.grown.notify_all();
    }

    /// A problem with what comes `at` in the source's order (an archive that could not be
    /// fetched or opened).
    pub fn problem(&self, at: usize, what: String, why: String) {
        self.lock().problems.push((at, what, why));
    }

    /// Nothing more will be published: readers waiting for more go on.
    pub fn close(&self) {
        self.lock().closed = true;
        self.grown.notify_all();
    }

    /// Wait until `want` reports are published or the feed is closed; how many of the
    /// first `want` there are.
    pub fn wait_for(&self, want: usize) -> usize {
        let mut state = self.lock();
        while state.reports.len() < want && !state.closed {
            state = self.grown.wait(state).expect("no panics while held");
        }
        state.reports.len().min(want)
    }

    /// Report `index`, published already (see [`Self::wait_for`]).
    pub fn get(&self, index: usize) -> Option<ReportFile> {
        self.lock().reports.get(index).cloned()
    }

    /// Reports published so far, and whether that is all of them.
    pub fn published(&self) -> (usize, bool) {
        let state = self.lock();
        (state.reports.len(), state.closed)
    }

    /// The run's report bytes, estimated from what is published so far (its ratio to the
    /// archives' weight); none before any report is.
    pub fn estimated_xml_bytes(&self) -> Option<u64> {
        let state = self.lock();
        let ratio = state.xml_published as f64 / state.compressed_published.max(1) as f64;
        (state.xml_published > 0).then(|| (ratio * state.compressed_total as f64) as u64)
    }

    /// Everything published (taken out): reports, td_exclusions files and problems, in
    /// order.
    pub fn take_parts(&self) -> (Vec<ReportFile>, Vec<AuxFile>, Vec<(String, String)>) {
        let mut state = std::mem::take(&mut *self.lock());
        state.problems.sort_by_key(|(at, ..)| *at);
        let problems = state.problems.into_iter().map(|(_, w, m)| (w, m)).collect();
        (state.reports, state.td_exclusions, problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Origin, RelPath};

    fn report(path: &str) -> ReportFile {
        ReportFile {
            rel: RelPath(path.split('/').map(Into::into).collect()),
            origin: Origin::Disk(path.into()),
            size: 1,
        }
    }

    #[test]
    fn readers_wait_for_what_is_not_published_and_stop_at_the_close() {
        let feed = Feed::new(4);
        assert_eq!(feed.estimated_xml_bytes(), None);
        std::thread::scope(|s| {
            let reader = s.spawn(|| {
                let n = feed.wait_for(3);
                (n, feed.get(2).map(|r| r.rel.to_string()))
            });
            feed.publish(
                Listing {
                    reports: vec![report("unzipped-a/y.xml"), report("unzipped-a/x.xml")],
                    ..Listing::default()
                },
                1,
            );
            feed.publish(
                Listing {
                    reports: vec![report("unzipped-b/x.xml")],
                    ..Listing::default()
                },
                1,
            );
            assert_eq!(reader.join().unwrap(), (3, Some("unzipped-b/x.xml".into())));
        });
        // Three reports of one byte from two of the four bytes of archives.
        assert_eq!(feed.estimated_xml_bytes(), Some(6));
        feed.problem(5, "b".into(), "later".into());
        feed.problem(1, "a".into(), "earlier".into());
        std::thread::scope(|s| {
            let reader = s.spawn(|| feed.wait_for(10));
            feed.close();
            assert_eq!(reader.join().unwrap(), 3);
        });
        let (reports, _, problems) = feed.take_parts();
        // Each part sorted as a whole listing is; problems in the source's order.
        assert_eq!(reports[0].rel.to_string(), "unzipped-a/x.xml");
        assert_eq!(problems[0].0, "a");
    }
}
