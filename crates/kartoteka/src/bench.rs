//! `kartoteka bench …`: benchmarks printing figures with the data size.

use clap::Subcommand;

use crate::config::Config;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Identification latency (in-process and over HTTP) beside the raw engine.
    Identify {
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
    },
}

pub async fn run(_config: &Config, _command: BenchCommand) -> anyhow::Result<()> {
    anyhow::bail!("not written yet")
}
