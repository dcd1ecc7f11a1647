//! Sharding a run across machines: the (seed, cell, fold) jobs of a run are
//! numbered in the order an unsharded run computes them, and shard K of N
//! computes the jobs whose number is K - 1 modulo N. Each shard writes its
//! folds into the usual `cells/<cell>/seed-S/` layout; gathered into one
//! directory they are exactly the folds of an unsharded run, which a resume
//! (or `vaeser merge`) turns into the report.

use crate::error::{Error, Result};

/// Shard `index + 1` of `count`; `Display` writes it as `K/N` again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 0-based.
    pub index: usize,
    /// How many shards the run is split into (at least 1).
    pub count: usize,
}

impl Shard {
    /// `K/N` with 1 <= K <= N (as SLURM's array task id and count give them).
    pub fn parse(text: &str) -> Result<Shard> {
        let bad = |why: &str| Error::config(format!("--shard {text:?}: {why}"));
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| bad("expected K/N, e.g. 2/8"))?;
        let k: usize = k.trim().parse().map_err(|_| bad("K is not a number"))?;
        let n: usize = n.trim().parse().map_err(|_| bad("N is not a number"))?;
        if n == 0 || k == 0 || k > n {
            return Err(bad("need 1 <= K <= N"));
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }

    /// Whether job number `job` (0-based, in run order) is this shard's.
    pub fn owns(&self, job: usize) -> bool {
        job % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_jobs() {
        let shards: Vec<Shard> = (1..=3)
            .map(|k| Shard::parse(&format!("{k}/3")).unwrap())
            .collect();
        for job in 0..20 {
            assert_eq!(shards.iter().filter(|s| s.owns(job)).count(), 1);
        }
        assert!(shards[0].owns(0) && shards[1].owns(4) && shards[2].owns(5));
        assert_eq!(shards[1].to_string(), "2/3");
        for bad in ["0/3", "4/3", "3", "a/b", "1/0"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
