//! Small helpers for writing SVG by hand, shared by the Gantt chart ([`crate::report::render_svg`])
//! and the sweep plot ([`crate::report::plot`]).
//!
//! The pictures are written as text rather than through a plotting crate so that the output is
//! fully determined by the input (same report, same bytes), has no font or backend dependency,
//! and stays small enough to commit.

use std::fmt::Write;

/// The font stack of every picture: DejaVu Sans where it exists (most Linux systems, rsvg),
/// then what browsers have.
pub const FONT: &str = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif";

/// Fill of `running` (Okabe–Ito blue: the palette stays readable for colour-blind readers).
pub const RUNNING: &str = "#0072B2";
/// Fill of `ready` (Okabe–Ito orange).
pub const READY: &str = "#E69F00";
/// Fill of `blocked` (Okabe–Ito reddish purple).
pub const BLOCKED: &str = "#CC79A7";
/// Fill of `new` (created, not admitted).
pub const NEW: &str = "#E8E8E8";
/// Fill of a zombie (terminated, not reaped).
pub const ZOMBIE: &str = "#8C8C8C";
/// Fill of a context switch.
pub const SWITCH: &str = "#1A1A1A";
/// Fill of an idle CPU: white, so that it is not mistaken for the grey of `new`.
pub const IDLE: &str = "#FFFFFF";
/// Edge of an idle CPU's lane (and of its legend swatch).
pub const IDLE_EDGE: &str = "#B0B0B0";
/// Text and lines that should not draw the eye.
pub const MUTED: &str = "#666666";
/// Grid lines.
pub const GRID: &str = "#E6E6E6";
/// Exit codes other than 0, signals, errors.
pub const ALERT: &str = "#B2182B";

/// Colours for the lines of a plot, one per series (Okabe–Ito, then darker shades).
pub const SERIES: &[&str] = &[
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
    "#7F3C8D", "#11A579",
];

/// Escapes text for an XML text node or attribute value.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even escaped; a name could hold one.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with at most one decimal (a tenth of a pixel is finer than any screen shows)
/// and no trailing zeros: short files, and the same digits on every machine (formatting an
/// `f64` with a fixed precision is exact and portable).
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "0".to_owned();
    }
    let mut s = format!("{x:.1}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" { "0".to_owned() } else { s }
}

/// A figure for people: integers as integers, others with up to `digits` decimals.
pub fn figure(x: f64, digits: usize) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x:.digits$}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_owned()
    }
}

/// Roughly how wide `text` is at `size` px in [`FONT`] (DejaVu Sans averages about 0.6 em).
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.6
}

/// Cuts `text` to at most `max` characters, marking the cut with `…`.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// A "nice" step (1, 2 or 5 times a power of ten) that cuts `span` into at most `max` parts.
pub fn nice_step(span: f64, max: usize) -> f64 {
    // NaN and non-positive spans both fall back to a step of 1.
    if span.is_nan() || span <= 0.0 || max == 0 {
        return 1.0;
    }
    let raw = span / max as f64;
    let mut p = 1.0;
    while p * 10.0 <= raw {
        p *= 10.0;
    }
    while p > raw {
        p /= 10.0;
    }
    for m in [1.0, 2.0, 5.0, 10.0] {
        if p * m >= raw {
            return p * m;
        }
    }
    p * 10.0
}

/// Integer tick positions `0, step, 2·step, …` up to `end`, at most about `max` of them.
pub fn int_ticks(end: u64, max: usize) -> Vec<u64> {
    let step = (nice_step(end as f64, max).round() as u64).max(1);
    (0..=end / step).map(|i| i * step).collect()
}

/// An SVG document being written.
#[derive(Debug, Default)]
pub struct Svg {
    /// The markup so far.
    pub out: String,
}

impl Svg {
    /// Starts a document `w` × `h` px with a white background and a title for screen readers.
    pub fn new(w: f64, h: f64, title: &str) -> Svg {
        let mut s = Svg::default();
        let _ = write!(
            s.out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"{FONT}\" font-size=\"12\">\n<title>{t}</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n",
            w = num(w),
            h = num(h),
            t = esc(title)
        );
        s
    }

    /// A filled rectangle, with an optional tooltip.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, tip: Option<&str>) {
        let _ = write!(
            self.out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"",
            num(x),
            num(y),
            num(w),
            num(h)
        );
        match tip {
            Some(t) => {
                let _ = writeln!(self.out, "><title>{}</title></rect>", esc(t));
            }
            None => self.out.push_str("/>\n"),
        }
    }

    /// Text at `(x, y)` (baseline) with extra attributes (`anchor`, weight, fill …) given raw.
    pub fn text(&mut self, x: f64, y: f64, attrs: &str, text: &str) {
        let _ = writeln!(
            self.out,
            "<text x=\"{}\" y=\"{}\"{}{attrs}>{}</text>",
            num(x),
            num(y),
            if attrs.is_empty() { "" } else { " " },
            esc(text)
        );
    }

    /// A straight line.
    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64) {
        let _ = writeln!(
            self.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{stroke}\" stroke-width=\"{}\"/>",
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            num(width)
        );
    }

    /// Raw markup.
    pub fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// Ends the document.
    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }
}

/// Rectangles of one colour gathered into a single `<path>`, which keeps large charts small.
#[derive(Debug, Default)]
pub struct RectPath {
    d: String,
}

impl RectPath {
    /// Adds a rectangle.
    pub fn add(&mut self, x: f64, y: f64, w: f64, h: f64) {
        let _ = write!(
            self.d,
            "M{} {}h{}v{}h-{}z",
            num(x),
            num(y),
            num(w),
            num(h),
            num(w)
        );
    }

    /// Writes the path (nothing if it is empty).
    pub fn write(&self, svg: &mut Svg, fill: &str) {
        if !self.d.is_empty() {
            let _ = writeln!(svg.out, "<path fill=\"{fill}\" d=\"{}\"/>", self.d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(3.0), "3");
        assert_eq!(num(2.5), "2.5");
        assert_eq!(num(1.0 / 3.0), "0.3");
        assert_eq!(num(-0.001), "0");
        assert_eq!(figure(6.75, 2), "6.75");
        assert_eq!(figure(29.0, 2), "29");
    }

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(29.0, 10), 5.0);
        assert_eq!(nice_step(100.0, 10), 10.0);
        assert_eq!(nice_step(7.0, 10), 1.0);
        assert_eq!(int_ticks(29, 10), vec![0, 5, 10, 15, 20, 25]);
        assert_eq!(int_ticks(0, 10), vec![0]);
    }

    #[test]
    fn escaping() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(esc("x\u{1}y"), "x\u{FFFD}y");
    }
}
