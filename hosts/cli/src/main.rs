//! The `compliance` command: offline scans of exported AWS Config data. A thin host: it reads
//! arguments and files, drives `compliance-runtime`, and writes what the component renders.
//! Exit codes: 0 success, 1 below `--fail-under` or a verify mismatch, 2 usage or input error.

mod args;
mod commands;
mod demo;
mod output;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

/// What a command concluded, mapped to the exit code.
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: the score is below `--fail-under`, verify found a difference, or Security Hub
    /// would refuse findings of an ASFF export.
    Failed,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => commands::scan::run(args),
        Command::Verify(args) => commands::verify::run(args),
        Command::Rollup(args) => commands::rollup::run(args),
        Command::Diff(args) => commands::diff::run(args),
        Command::Rules(args) => commands::rules::run(args),
        Command::Component(args) => commands::component::run(args),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
