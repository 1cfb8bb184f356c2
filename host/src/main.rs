//! The `tickhost` command line: parses the arguments, sets up logging, and
//! hands each command to its module under `cli/`. Library errors become
//! `anyhow` errors here, printed on stderr with a non-zero exit code (1, or
//! the command's own, such as 78 for a refused Alpha Vantage key).

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Args::parse();
    cli::logging::init();
    match cli::execute(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(cli::exit_code(&e))
        }
    }
}
