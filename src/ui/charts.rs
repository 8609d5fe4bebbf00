//! The overview's bar charts (egui_plot), readable in both themes: tick labels in the theme's
//! text colour at full strength, marks spaced so that every label fits, units on the axes.

use egui::{Color32, Response, Ui};
use egui_plot::{AxisHints, Bar, BarChart, GridInput, GridMark, Plot};

use crate::format;

/// One colour for every bar of a chart, readable in both themes.
pub fn bar_colour(ui: &Ui) -> Color32 {
    if ui.visuals().dark_mode {
        Color32::from_rgb(90, 140, 210)
    } else {
        Color32::from_rgb(40, 95, 170)
    }
}

/// The theme's text colour: egui_plot's default fades labels by their spacing, which on a
/// white background leaves them light grey.
fn label_colour(ui: &Ui) -> Color32 {
    ui.visuals().strong_text_color()
}

/// The smallest of 1, 2, 5 × 10^k at least `x`.
fn nice_step(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 1.0;
    }
    let base = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * base)
        .find(|&s| s >= x * (1.0 - 1e-9))
        .unwrap_or(10.0 * base)
}

/// Marks from 0 every `step`, all of one strength (one grey for every label), at least
/// `min_points` apart on screen, none closer than `margin_points` to the right end (a label
/// there would be cut).
fn even_marks(
    input: &GridInput,
    min_points: f64,
    margin_points: f64,
    step_of: fn(f64) -> f64,
) -> Vec<GridMark> {
    // `base_step_size` is the data span of the plot's minimum grid spacing (8 points).
    let per_point = input.base_step_size / 8.0;
    let step = step_of(per_point * min_points);
    let end = input.bounds.1 - per_point * margin_points;
    let mut marks = Vec::new();
    let mut k = (input.bounds.0 / step).ceil().max(0.0);
    while k * step <= end && marks.len() < 100 {
        marks.push(GridMark {
            value: k * step,
            step_size: step,
        });
        k += 1.0;
    }
    marks
}

/// Horizontal bars, largest on top, each named on the axis: (name, bytes, hover text).
pub fn ranked_chart(ui: &mut Ui, id: &str, items: &[(String, u64, String)]) -> Response {
    let n = items.len();
    let max = items.iter().map(|i| i.1).max().unwrap_or(0);
    let (unit, scale) = match max {
        m if m >= 4 << 30 => ("GB", 1024.0 * 1024.0 * 1024.0),
        m if m >= 4 << 20 => ("MB", 1024.0 * 1024.0),
        _ => ("KB", 1024.0),
    };
    let colour = bar_colour(ui);
    let text = label_colour(ui);
    let bars: Vec<Bar> = items
        .iter()
        .enumerate()
        .map(|(i, (_, bytes, hover))| {
            Bar::new((n - 1 - i) as f64, *bytes as f64 / scale)
                .name(hover)
                .fill(colour)
        })
        .collect();
    let names: Vec<String> = items
        .iter()
        .rev()
        .map(|(name, _, _)| name.clone())
        .collect();
    let x_axis = value_axis(AxisHints::new_x(), "retained", unit, 30.0, text);
    let y_axis = AxisHints::new_y()
        .min_thickness(130.0)
        .formatter(move |m, _| {
            let i = m.value.round();
            if (m.value - i).abs() < 0.01 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .label_spacing(8.0..=9.0)
        .tick_label_color(text);
    fixed_plot(id)
        .height(24.0 * n.max(3) as f32 + 36.0)
        .custom_x_axes(vec![x_axis])
        .custom_y_axes(vec![y_axis])
        .x_grid_spacer(|input| even_marks(&input, 70.0, 20.0, nice_step))
        .include_x(0.0)
        .include_x(max as f64 / scale * 1.08)
        // Room for three bars at least: one bar does not fill the chart.
        .include_y(-0.5)
        .include_y(n.max(3) as f64 - 0.5)
        // One mark per bar, all of one weight: every name in the same colour.
        .y_grid_spacer(move |_| {
            (0..n)
                .map(|i| GridMark {
                    value: i as f64,
                    step_size: 1.0,
                })
                .collect()
        })
        .show_grid([true, false])
        .show(ui, |p| {
            p.bar_chart(
                BarChart::new("retained", bars)
                    .horizontal()
                    .width(0.7)
                    .color(colour)
                    .element_formatter(Box::new(|bar, _| bar.name.clone())),
            )
        })
        .response
}

/// Bytes held by objects of each power-of-two shallow size: `dist[i]` = (objects, bytes) of
/// sizes in (2^(i-1), 2^i].
pub fn size_chart(ui: &mut Ui, dist: &[(u64, u64)]) -> Response {
    let colour = bar_colour(ui);
    let text = label_colour(ui);
    let max_bucket = dist.iter().rposition(|(n, _)| *n > 0).unwrap_or(0);
    let max_bytes = dist.iter().map(|d| d.1).max().unwrap_or(0);
    let (unit, scale) = match max_bytes {
        m if m >= 4 << 30 => ("GB", 1024.0 * 1024.0 * 1024.0),
        m if m >= 4 << 20 => ("MB", 1024.0 * 1024.0),
        _ => ("KB", 1024.0),
    };
    let bars: Vec<Bar> = dist
        .iter()
        .enumerate()
        .filter(|(_, (n, _))| *n > 0)
        .map(|(i, &(n, bytes))| {
            let lo = if i == 0 { 0 } else { 1u64 << (i - 1) };
            Bar::new(i as f64, bytes as f64 / scale)
                .fill(colour)
                .name(format!(
                    "objects of {} – {}: {} objects, {}",
                    format::bytes(lo),
                    format::bytes(1u64 << i),
                    format::thousands(n),
                    format::bytes(bytes)
                ))
        })
        .collect();
    let x_axis = AxisHints::new_x()
        .label("shallow size of an object (up to)")
        .formatter(|m, _| {
            let i = m.value.round();
            if (m.value - i).abs() < 0.01 && (1.0..63.0).contains(&i) {
                format!("≤{}", format::bytes(1u64 << (i as u32)))
            } else {
                String::new()
            }
        })
        .label_spacing(30.0..=31.0)
        .tick_label_color(text);
    let y_axis = value_axis(AxisHints::new_y(), "bytes", unit, 20.0, text);
    // Powers of two of buckets, so that labels ≤16 B, ≤64 B, … stay evenly spaced.
    let pow2 = |x: f64| {
        let mut s = 1.0;
        while s < x && s < 64.0 {
            s *= 2.0;
        }
        s
    };
    fixed_plot("size-distribution")
        .height(190.0)
        .custom_x_axes(vec![x_axis])
        .custom_y_axes(vec![y_axis])
        .x_grid_spacer(move |input| even_marks(&input, 80.0, 40.0, pow2))
        .y_grid_spacer(|input| even_marks(&input, 30.0, 0.0, nice_step))
        .include_x(0.0)
        .include_x(max_bucket as f64 + 1.0)
        .include_y(0.0)
        .include_y(max_bytes as f64 / scale * 1.1)
        .show(ui, |p| {
            p.bar_chart(
                BarChart::new("bytes by object size", bars)
                    .width(0.8)
                    .color(colour)
                    .element_formatter(Box::new(|bar, _| bar.name.clone())),
            )
        })
        .response
}

/// `2`, `2.5`, `0.25`: a tick value without trailing zeros or float noise.
/// A plot that does not scroll, drag or zoom: the overview's charts are pictures.
fn fixed_plot<'a>(id: &str) -> Plot<'a> {
    Plot::new(id)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_boxed_zoom(false)
}

/// An axis of byte values in `unit` ("MB"), titled `what (unit)`, a label every `spacing`
/// points.
fn value_axis<'a>(
    axis: AxisHints<'a>,
    what: &str,
    unit: &'static str,
    spacing: f32,
    text: Color32,
) -> AxisHints<'a> {
    axis.label(format!("{what} ({unit})"))
        .formatter(move |m, _| {
            if m.value >= 0.0 {
                format!("{} {unit}", trim_number(m.value))
            } else {
                String::new()
            }
        })
        .label_spacing(spacing..=spacing + 1.0)
        .tick_label_color(text)
}

fn trim_number(v: f64) -> String {
    let s = format!("{:.2}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_numbers() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.3), 2.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(20.0), 20.0);
        assert_eq!(nice_step(0.012), 0.02);
        assert_eq!(trim_number(2.0), "2");
        assert_eq!(trim_number(2.5), "2.5");
        assert_eq!(trim_number(0.30000000000000004), "0.3");
    }
}
