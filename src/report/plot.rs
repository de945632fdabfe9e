//! The sweep's plot drawn as SVG (`procsim sweep … --plot FILE.svg`): a line a series value,
//! a band of the middle half of the runs behind each point, a legend. What is drawn is
//! gathered in [`crate::study::plot`].

use std::fmt::Write;

use serde_json::Value as Json;

use super::draw::{self, GRID, MUTED, SERIES, Svg, esc, num};
use crate::study::plot::{PlotSummary, Stat};

fn label(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The plot as an SVG document.
pub fn svg(summary: &PlotSummary<'_>) -> String {
    let PlotSummary {
        spec,
        series_name,
        xs,
        series: ss,
        stats,
    } = summary;
    let per_point = stats
        .iter()
        .flatten()
        .flatten()
        .map(|s| s.n)
        .max()
        .unwrap_or(1);

    // The x scale: numeric (linear or log) or one slot per value.
    let numeric: Option<Vec<f64>> = xs.iter().map(Json::as_f64).collect();
    let log = numeric.as_ref().is_some_and(|v| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        lo > 0.0 && hi / lo >= 8.0
    });
    let xpos: Vec<f64> = match &numeric {
        Some(v) if log => v.iter().map(|x| x.log2()).collect(),
        Some(v) => v.clone(),
        None => (0..xs.len()).map(|i| i as f64).collect(),
    };
    let (xmin, xmax) = xpos
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let (xmin, xmax) = if xmax > xmin {
        (xmin, xmax)
    } else {
        (xmin - 1.0, xmax + 1.0)
    };

    let all = stats.iter().flatten().flatten();
    let ylo = all
        .clone()
        .map(|s| s.lo.min(s.mean))
        .fold(f64::INFINITY, f64::min);
    let yhi = all
        .map(|s| s.hi.max(s.mean))
        .fold(f64::NEG_INFINITY, f64::max);
    let ymin = if ylo >= 0.0 { 0.0 } else { ylo };
    let ystep = draw::nice_step((yhi - ymin).max(1e-9), 6);
    let ymax = ((yhi / ystep).ceil() * ystep).max(ymin + ystep);

    let (w, h) = (760.0, 460.0);
    let legend_w = if series_name.is_some() { 150.0 } else { 0.0 };
    let (left, right, top, bottom) = (70.0, 24.0 + legend_w, 64.0, 58.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    // Keep the outermost points off the frame.
    let pad = (xmax - xmin) * 0.04;
    let px = |x: f64| left + (x - xmin + pad) / (xmax - xmin + 2.0 * pad) * pw;
    let py = |y: f64| top + ph - (y - ymin) / (ymax - ymin) * ph;

    let mut svg = Svg::new(w, h, &format!("{} against {}", spec.y, spec.x));
    svg.text(
        18.0,
        26.0,
        "font-size=\"16\" font-weight=\"bold\"",
        &format!("{} against {}", spec.y, spec.x),
    );
    let mut sub = draw::clip(&spec.title, 70);
    if per_point > 1 {
        let _ = write!(
            sub,
            " · mean of up to {per_point} runs a point; bands: their middle half (25th–75th percentile)"
        );
    }
    svg.text(
        18.0,
        44.0,
        &format!("font-size=\"11\" fill=\"{MUTED}\""),
        &sub,
    );

    // Grid and axes.
    let mut v = ymin;
    while v <= ymax + ystep * 1e-6 {
        let y = py(v);
        svg.line(left, y, left + pw, y, GRID, 1.0);
        svg.text(
            left - 6.0,
            y + 4.0,
            "text-anchor=\"end\" font-size=\"11\"",
            &draw::figure(v, 3),
        );
        v += ystep;
    }
    let few = xs.len() <= 16;
    if few || numeric.is_none() {
        for (k, xv) in xs.iter().enumerate() {
            let x = px(xpos[k]);
            svg.line(x, top, x, top + ph, GRID, 1.0);
            svg.text(
                x,
                top + ph + 16.0,
                "text-anchor=\"middle\" font-size=\"11\"",
                &draw::clip(&label(xv), 14),
            );
        }
    } else {
        let step = draw::nice_step(xmax - xmin, 8);
        let mut t = (xmin / step).ceil() * step;
        while t <= xmax + step * 1e-6 {
            let x = px(t);
            svg.line(x, top, x, top + ph, GRID, 1.0);
            let shown = if log { 2f64.powf(t) } else { t };
            svg.text(
                x,
                top + ph + 16.0,
                "text-anchor=\"middle\" font-size=\"11\"",
                &draw::figure(shown, 3),
            );
            t += step;
        }
    }
    svg.line(left, top + ph, left + pw, top + ph, MUTED, 1.0);
    svg.line(left, top, left, top + ph, MUTED, 1.0);
    svg.text(
        left + pw / 2.0,
        h - 18.0,
        "text-anchor=\"middle\"",
        &format!("{}{}", spec.x, if log { " (log scale)" } else { "" }),
    );
    let unit = match spec.y.as_str() {
        "utilization" | "dispatches" | "context_switches" | "processes" => "",
        "throughput" => " (per tick)",
        _ => " (ticks)",
    };
    let _ = writeln!(
        svg.out,
        "<text transform=\"translate(18 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        num(top + ph / 2.0),
        esc(&format!("{}{unit}", spec.y))
    );

    // Bands, then lines and markers, then the legend.
    for (k, row) in stats.iter().enumerate() {
        let colour = SERIES[k % SERIES.len()];
        let pts: Vec<(f64, Stat)> = row
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|s| (xpos[i], s)))
            .collect();
        if per_point > 1 && pts.len() > 1 {
            let mut d = String::new();
            for (i, (x, s)) in pts.iter().enumerate() {
                let _ = write!(
                    d,
                    "{}{} {}",
                    if i == 0 { 'M' } else { 'L' },
                    num(px(*x)),
                    num(py(s.hi))
                );
            }
            for (x, s) in pts.iter().rev() {
                let _ = write!(d, "L{} {}", num(px(*x)), num(py(s.lo)));
            }
            let _ = writeln!(
                svg.out,
                "<path d=\"{d}Z\" fill=\"{colour}\" fill-opacity=\"0.13\"/>"
            );
        }
        let line: Vec<String> = pts
            .iter()
            .map(|(x, s)| format!("{},{}", num(px(*x)), num(py(s.mean))))
            .collect();
        let _ = writeln!(
            svg.out,
            "<polyline class=\"series\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            line.join(" ")
        );
        // Each point's tooltip names its x value as the sweep gave it (a policy's name, a
        // quantum), not its place on the axis.
        let at = row.iter().enumerate().filter_map(|(i, s)| s.map(|_| i));
        for ((x, s), i) in pts.iter().zip(at) {
            let _ = writeln!(
                svg.out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{colour}\"><title>{}</title></circle>",
                num(px(*x)),
                num(py(s.mean)),
                esc(&format!(
                    "{} = {}: mean {} (n = {}, quartiles {} and {})",
                    spec.x,
                    label(&xs[i]),
                    draw::figure(s.mean, 3),
                    s.n,
                    draw::figure(s.lo, 3),
                    draw::figure(s.hi, 3)
                ))
            );
        }
    }
    if let Some(name) = series_name {
        let lx = left + pw + 16.0;
        svg.text(
            lx,
            top + 4.0,
            "font-size=\"11\" font-weight=\"bold\"",
            &draw::clip(name, 22),
        );
        // As many entries as the plot's height has room for; the rest are counted.
        let room = ((ph - 22.0) / 18.0).floor().max(1.0) as usize;
        let shown = if ss.len() <= room { ss.len() } else { room - 1 };
        if shown < ss.len() {
            svg.text(
                lx,
                top + 22.0 + shown as f64 * 18.0,
                &format!("font-size=\"11\" fill=\"{MUTED}\""),
                &format!("… and {} more", ss.len() - shown),
            );
        }
        for (k, sv) in ss.iter().enumerate().take(shown) {
            let y = top + 22.0 + k as f64 * 18.0;
            let colour = SERIES[k % SERIES.len()];
            svg.line(lx, y - 4.0, lx + 22.0, y - 4.0, colour, 2.0);
            svg.text(
                lx + 28.0,
                y,
                "font-size=\"11\"",
                &format!("= {}", draw::clip(&label(sv), 16)),
            );
        }
    }
    svg.finish()
}

#[cfg(test)]
mod tests {
    use crate::study::plot::{PlotSpec, render_plot};
    use crate::study::sweep::{Base, Setting, Sweep};
    use crate::study::workload::GenParams;

    fn plot(series_values: &str) -> String {
        let sweep = Sweep {
            base: Base::Gen(GenParams::new(1, 3)),
            settings: vec![
                Setting::parse("kernel.context_switch=0,1").unwrap(),
                Setting::parse(&format!("kernel.quantum={series_values}")).unwrap(),
            ],
            seeds: None,
            shard: None,
        };
        let results = sweep.run(sweep.range(), &|| {}).unwrap();
        let spec = PlotSpec {
            x: "kernel.context_switch".into(),
            y: "avg_waiting".into(),
            series: Some("kernel.quantum".into()),
            title: "t".into(),
        };
        render_plot(&sweep.columns(), &results, &spec).unwrap()
    }

    /// A line a series value, and a legend entry for each while they fit the plot's height
    /// (460 − 64 − 58 = 338 pixels, 22 for the heading, 18 an entry: 17 entries); past that,
    /// 16 entries and a count of the rest, so the legend never runs off the picture.
    #[test]
    fn the_legend_lists_what_fits_and_counts_the_rest() {
        let few = plot("1..17");
        assert_eq!(few.matches("class=\"series\"").count(), 17);
        assert_eq!(few.matches(">= ").count(), 17, "{few}");
        assert!(!few.contains("more<"), "{few}");
        let many = plot("1..40");
        assert_eq!(many.matches("class=\"series\"").count(), 40);
        assert_eq!(many.matches(">= ").count(), 16, "{many}");
        assert!(many.contains(">… and 24 more<"), "{many}");
    }
}
