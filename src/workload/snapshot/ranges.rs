//! Byte ranges of one file, kept sorted and merged: what a snapshot captured of it, or what planning
//! read of it.

use std::ops::Range;

/// Sorted, non-overlapping, non-adjacent byte ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ByteRanges(Vec<Range<u64>>);

impl ByteRanges {
    /// Adds a range, merging it with the ranges it overlaps or touches. Empty ranges are ignored.
    pub fn insert(&mut self, range: Range<u64>) {
        if range.start >= range.end {
            return;
        }
        let (mut start, mut end) = (range.start, range.end);
        // The ranges that overlap or touch `start..end` are contiguous in the sorted list.
        let first = self.0.partition_point(|r| r.end < start);
        let mut last = first;
        while last < self.0.len() && self.0[last].start <= end {
            start = start.min(self.0[last].start);
            end = end.max(self.0[last].end);
            last += 1;
        }
        self.0.splice(first..last, std::iter::once(start..end));
    }

    /// Whether every byte of `range` is in one of the ranges.
    pub fn covers(&self, range: &Range<u64>) -> bool {
        if range.start >= range.end {
            return true;
        }
        let at = self.0.partition_point(|r| r.end <= range.start);
        self.0
            .get(at)
            .is_some_and(|r| r.start <= range.start && range.end <= r.end)
    }

    /// The ranges, in order.
    pub fn ranges(&self) -> &[Range<u64>] {
        &self.0
    }

    /// Bytes in all ranges.
    pub fn len(&self) -> u64 {
        self.0.iter().map(|r| r.end - r.start).sum()
    }

    /// Whether there is no range.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<Range<u64>> for ByteRanges {
    fn from_iter<I: IntoIterator<Item = Range<u64>>>(ranges: I) -> Self {
        let mut merged = ByteRanges::default();
        for range in ranges {
            merged.insert(range);
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::ByteRanges;

    #[test]
    fn overlapping_and_touching_ranges_merge_and_gaps_stay() {
        let ranges: ByteRanges = [10..20, 30..40, 18..25, 40..45, 0..0, 60..70]
            .into_iter()
            .collect();
        assert_eq!(ranges.ranges(), [10..25, 30..45, 60..70]);
        assert_eq!(ranges.len(), 15 + 15 + 10);
        let mut all = ranges.clone();
        all.insert(5..65);
        assert_eq!(all.ranges(), std::slice::from_ref(&(5..70)));
    }

    #[test]
    fn a_range_is_covered_only_inside_one_captured_range() {
        let ranges: ByteRanges = [10..20, 30..40].into_iter().collect();
        assert!(ranges.covers(&(10..20)));
        assert!(ranges.covers(&(12..13)));
        assert!(ranges.covers(&(35..35)), "an empty read needs nothing");
        assert!(!ranges.covers(&(15..35)), "a gap between two ranges");
        assert!(!ranges.covers(&(19..21)));
        assert!(!ranges.covers(&(0..1)));
        assert!(!ranges.covers(&(40..41)));
    }
}
