//! The `testscope` binary: parse flags, pick a front-end, map errors to exit codes.

use clap::Parser;

use testscope::cli::Cli;
use testscope::config::{Exit, exit};
use testscope::headless;

// Parsing allocates many small strings on every core; mimalloc handles that far better
// than the system allocator (malloc/free dominate a profile of `bench/run.sh` without it).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    let code = match run(&cli) {
        Ok(code) => code,
        // `testscope PATH | head`: a reader that stops early is not an error.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            exit::OK
        }
        Err(e) => {
            let code = e.downcast_ref::<Exit>().map_or(exit::FAILED, |x| x.code);
            eprintln!("testscope: {e:#}");
            code
        }
    };
    std::process::exit(code);
}

fn run(cli: &Cli) -> anyhow::Result<i32> {
    if let Some(shell) = cli.completions {
        Cli::write_completions(shell, &mut std::io::stdout());
        return Ok(exit::OK);
    }
    if cli.man {
        Cli::write_man(&mut std::io::stdout())?;
        return Ok(exit::OK);
    }
    // A run URL in place of PATH names the run: from here on it is ids and a repository.
    let cli = &testscope::config::resolve_run_url(cli)?;
    if cli.upload {
        headless::upload(cli)
    } else if cli.plain
        || cli.json
        || cli.markdown
        || cli.repro
        || cli.fail_on.is_some()
        || !interactive()
    {
        headless::inspect(cli)
    } else {
        testscope::tui::run(cli)
    }
}

/// The TUI needs a terminal on both ends; piped or redirected, the plain report is printed.
fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::io::stdin().is_terminal()
}
