//! The start screen: open a dump, the sample, a recent file, or drop one on the window.

use std::path::PathBuf;

use egui::{RichText, Ui};

use super::Command;

pub fn ui(ui: &mut Ui, recent: &[PathBuf], error: Option<&str>, out: &mut Vec<Command>) {
    ui.vertical_centered(|ui| {
        ui.add_space(ui.available_height() * 0.12);
        ui.heading(RichText::new("heapsight").size(34.0).strong());
        ui.label("What is big in this Java heap, and why is it kept?");
        ui.add_space(24.0);
        if let Some(e) = error {
            egui::Frame::group(ui.style())
                .fill(ui.visuals().error_fg_color.gamma_multiply(0.15))
                .show(ui, |ui| {
                    ui.set_max_width(640.0);
                    ui.label(RichText::new("The dump could not be opened").strong());
                    ui.label(e);
                });
            ui.add_space(16.0);
        }
        ui.horizontal(|ui| {
            let width = 380.0;
            ui.add_space((ui.available_width() - width).max(0.0) / 2.0);
            if ui
                .add(egui::Button::new(
                    RichText::new("Open heap dump…").size(18.0),
                ))
                .on_hover_text("Ctrl+O")
                .clicked()
            {
                out.push(Command::OpenDialog);
            }
            ui.add_space(12.0);
            if ui
                .add(egui::Button::new(
                    RichText::new("Open sample dump").size(18.0),
                ))
                .on_hover_text("A small Tomcat-like heap with sessions and some garbage")
                .clicked()
            {
                out.push(Command::OpenSample);
            }
        });
        ui.add_space(6.0);
        if ui
            .link("or type its path… (Ctrl+L)")
            .on_hover_text("For desktops without a file chooser")
            .clicked()
        {
            out.push(Command::OpenPrompt);
        }
        ui.add_space(22.0);
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(520.0);
            ui.add_space(18.0);
            ui.label(
                RichText::new("Drop a .hprof or .hprof.gz file here")
                    .size(16.0)
                    .weak(),
            );
            ui.add_space(18.0);
        });
        if !recent.is_empty() {
            ui.add_space(28.0);
            ui.label(RichText::new("Recent dumps").strong());
            for path in recent {
                if ui.link(path.display().to_string()).clicked() {
                    out.push(Command::Open(path.clone()));
                }
            }
        }
    });
}
