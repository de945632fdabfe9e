//! `procsim sweep` and `procsim gen`: many runs over settings, and seeded workloads.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use procsim::study::plot::PlotSpec;
use procsim::study::sweep::{Base, Setting, Sweep, parse_seeds, parse_shard};
use procsim::study::workload::GenParams;

use super::args::{SweepArgs, SweepFormat};
use super::out::*;

/// Runs a sweep: checks each setting's values first ([`Sweep::validate`]), then runs in
/// parallel chunks, writing each chunk's rows in product order as soon as the chunk is done.
pub(crate) fn run_sweep(
    sweep: &Sweep,
    format: SweepFormat,
    output: Option<&Path>,
    plot: Option<(PathBuf, PlotSpec)>,
    jobs: Option<usize>,
    force: bool,
) -> anyhow::Result<ExitCode> {
    if let Some(n) = jobs {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("--jobs")?;
    }
    // A bad plot request fails before the runs, not after.
    let mut plot_data = match &plot {
        Some((_, spec)) => Some(procsim::study::plot::PlotData::new(&sweep.columns(), spec)?),
        None => None,
    };
    sweep.validate()?;
    let range = sweep.range();
    // Both outputs are claimed before the runs, so a long sweep cannot end by refusing to
    // write, and checked to be two files (standard output counts when the rows go there).
    let mut claimed = create_outputs(
        &[
            plot.as_ref().map(|(p, _)| ("--plot", p.as_path())),
            output.map(|p| ("--output", p)),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>(),
        output.is_none(),
        force,
    )?
    .into_iter();
    let mut plot_file = plot
        .as_ref()
        .and_then(|(path, _)| Some((path.clone(), claimed.next()?)));
    let mut sink: Box<dyn Write> = match claimed.next() {
        Some(file) => Box::new(io::BufWriter::new(file)),
        None => Box::new(stdout()?.lock()),
    };
    let first_shard = sweep.shard.is_none_or(|(i, _)| i == 1);
    if format == SweepFormat::Csv && first_shard {
        sink.write_all(sweep.csv_header().as_bytes())?;
    }
    let bar = if io::stderr().is_terminal() {
        let bar = ProgressBar::new(range.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} runs ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let chunk = (rayon::current_num_threads() * 16).max(64);
    let mut stopped = false;
    let mut start = range.start;
    while start < range.end {
        let end = (start + chunk).min(range.end);
        // Each run's scenario is built as it comes: a bad combination of good values stops
        // the sweep at the first such run in product order, after the rows before it.
        let mut results = Vec::with_capacity(end - start);
        let mut bad = None;
        for r in sweep.run_each(start..end, &|| bar.inc(1)) {
            match r {
                Ok(r) => results.push(r),
                Err(e) => {
                    bad = Some(e);
                    break;
                }
            }
        }
        for r in &results {
            let line = match format {
                SweepFormat::Csv => sweep.csv_row(r),
                SweepFormat::Jsonl => sweep.json_row(r),
            };
            sink.write_all(line.as_bytes())?;
            stopped |= r.error.is_some();
        }
        sink.flush()?;
        if let Some(e) = bad {
            bar.finish_and_clear();
            return Err(e.into());
        }
        if let Some(data) = &mut plot_data {
            results.iter().for_each(|r| data.add(r));
        }
        start = end;
    }
    bar.finish_and_clear();
    if let (Some(data), Some((path, file))) = (plot_data, plot_file.as_mut()) {
        let svg = data.render()?;
        file.write_all(svg.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if stopped {
        say(format_args!(
            "a limit stopped some runs; see the error column"
        ));
        return Ok(ExitCode::from(EXIT_STOPPED));
    }
    Ok(ExitCode::SUCCESS)
}

/// `procsim sweep`: builds the sweep and the plot request from the arguments, then runs it.
pub(crate) fn sweep_command(args: SweepArgs) -> anyhow::Result<ExitCode> {
    let SweepArgs {
        file,
        generated: _,
        set,
        seeds,
        shard,
        format,
        output,
        plot,
        plot_x,
        plot_y,
        plot_series,
        jobs,
        force,
    } = args;
    // clap makes FILE and --gen exclusive and requires one of them.
    let base = match &file {
        Some(f) => Base::file(f)?,
        None => Base::Gen(GenParams::new(1, 10)),
    };
    let title = match (&base, &file) {
        (Base::File { doc, .. }, Some(f)) => doc
            .get("name")
            .and_then(|n| n.as_str())
            .filter(|n| !n.is_empty())
            .map_or_else(|| f.display().to_string(), str::to_owned),
        _ => "generated workloads".to_owned(),
    };
    let sweep = Sweep {
        base,
        settings: set
            .iter()
            .map(|s| Setting::parse(s))
            .collect::<Result<_, _>>()?,
        seeds: seeds.as_deref().map(parse_seeds).transpose()?,
        shard: shard.as_deref().map(parse_shard).transpose()?,
    };
    let plot = plot.map(|path| {
        // By default, the first setting that varies is x and the next one makes lines.
        let mut varying = sweep
            .settings
            .iter()
            .filter(|s| s.values.len() > 1)
            .map(|s| s.path.clone())
            .filter(|p| Some(p) != plot_x.as_ref());
        let x = plot_x
            .clone()
            .or_else(|| varying.next())
            .unwrap_or_else(|| sweep.columns().first().cloned().unwrap_or_default());
        let series = plot_series.or_else(|| varying.find(|p| *p != x));
        let spec = PlotSpec {
            x,
            y: plot_y,
            series,
            title,
        };
        (path, spec)
    });
    run_sweep(&sweep, format, output.as_deref(), plot, jobs, force)
}
