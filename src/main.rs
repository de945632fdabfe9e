//! The `procsim` command line. Everything it does is a call into the library; this file only
//! parses arguments, picks renderers and maps outcomes to exit codes.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use procsim::backend::SimBackend;
use procsim::report::graphviz::too_large_to_draw;
use procsim::report::{render_table_styled, tree_dot};
use procsim::study::workload::GenParams;
use procsim::{ScenarioError, StateGraph};

mod cli;

/// The system allocator, but a process of a fork run whose allocation fails under its memory
/// fence says so in one line before it aborts (`procsim::fork::oom`).
#[global_allocator]
static ALLOCATOR: procsim::fork::oom::FencedAlloc = procsim::fork::oom::FencedAlloc;

use cli::args::{Cli, ColorChoice, Command, GraphFormat, GraphWhat};
use cli::commands::*;
use cli::out::*;
use cli::sweep::sweep_command;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Supervise) = cli.command {
        // Single-threaded by construction: nothing above has started a thread.
        std::process::exit(procsim::fork::supervisor::main());
    }
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(se) = e.downcast_ref::<ScenarioError>() {
                say(format_args!("{se}"));
                return ExitCode::from(EXIT_BAD_INPUT);
            }
            if let Some(io) = e.downcast_ref::<io::Error>()
                && io.kind() == io::ErrorKind::BrokenPipe
            {
                return ExitCode::SUCCESS;
            }
            say(format_args!("{e:#}"));
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        None => {
            let plan = procsim::load_str(procsim::demo::DEMO).context("the built-in demo")?;
            let report = SimBackend::default().simulate(plan);
            emit(&render_table_styled(
                &report,
                100,
                ColorChoice::Auto.enabled(),
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Run {
            file,
            backend,
            format,
            check,
            explain,
            width,
            trace_ceiling,
            color,
            real,
        }) => run(
            &file,
            backend,
            format,
            RunChecks {
                check,
                explain,
                trace_ceiling,
            },
            width,
            color.enabled(),
            &real,
        ),
        Some(Command::Compare { file, format, real }) => compare(&file, format, &real),
        Some(Command::Supervise) => Ok(ExitCode::from(EXIT_BAD_INPUT)),
        Some(Command::Check { files }) => check_files(&files),
        Some(Command::Validate { files }) => {
            for f in &files {
                validate_scenario(f)?;
                emit(&format!("{}: ok\n", f.display()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Graph { what }) => match what {
            GraphWhat::States { format } => {
                emit(&graph_output(StateGraph::new().to_dot(), format)?)?;
                Ok(ExitCode::SUCCESS)
            }
            GraphWhat::Tree { file, format } => {
                let (_, plan) = load_scenario(&file)?;
                let report = simulate(plan, true);
                let dot = tree_dot(&report);
                if format == GraphFormat::Svg
                    && let Some(why) = too_large_to_draw(report.processes.len(), dot.len())
                {
                    say(format_args!("{}: {why}", file.display()));
                    return Ok(ExitCode::from(EXIT_STOPPED));
                }
                emit(&graph_output(dot, format)?)?;
                Ok(stopped_code(&report))
            }
        },
        Some(Command::Schema) => {
            emit(&(serde_json::to_string_pretty(&procsim::scenario::json_schema())? + "\n"))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Gen {
            seed,
            processes,
            cpu_bound,
            cpu_mean,
            io_mean,
            bursts,
            arrival_mean,
            quantum,
            cpus,
            context_switch,
            output,
            force,
        }) => {
            let params = GenParams {
                seed,
                processes,
                cpu_bound,
                cpu_mean,
                io_mean,
                bursts,
                arrival_mean,
                quantum,
                cpus,
                context_switch,
            };
            let text = procsim::study::workload::generate(&params).context("gen")?;
            match output {
                Some(path) => create_output(&path, force)?
                    .write_all(text.as_bytes())
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => emit(&text)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Sweep(args)) => sweep_command(args),
        Some(Command::Top(args)) => cli::teach::top(args),
        Some(Command::Quiz(args)) => cli::teach::quiz(args),
        Some(Command::Grade(args)) => cli::teach::grade(args),
    }
}
