//! Choosing a file: the system file chooser on a thread (so the window keeps drawing while it
//! is open), and a path field with completion when no chooser can be shown, saying why.

use std::path::{Path, PathBuf};
use std::time::Duration;

use egui::{Key, RichText, Ui};

use super::task::{Poll, Task};
use super::Command;

/// A chooser that answers faster than this without a file never showed itself.
const TOO_FAST: Duration = Duration::from_millis(400);
/// Completions listed under the path field.
const COMPLETIONS: usize = 12;

/// What the chosen file is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    Open,
    /// Save `contents` as a CSV file.
    SaveCsv {
        file_name: String,
        contents: String,
    },
}

/// The file chooser and its fallback.
#[derive(Default)]
pub struct FileChooser {
    dialog: Option<(Purpose, Task<Option<PathBuf>>)>,
    prompt: Option<Prompt>,
}

struct Prompt {
    purpose: Purpose,
    text: String,
    reason: Option<String>,
    focus: bool,
    message: Option<String>,
}

/// Why no system chooser can be shown, if that is known before trying.
fn no_chooser_reason() -> Option<String> {
    if std::env::var_os("HEAPSIGHT_NO_FILE_DIALOG").is_some() {
        return Some("The system file chooser is turned off (HEAPSIGHT_NO_FILE_DIALOG).".into());
    }
    if cfg!(target_os = "linux")
        && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
        && !on_path("zenity")
    {
        return Some(
            "No file chooser is available: there is no D-Bus session for the XDG desktop \
             portal, and zenity is not installed."
                .into(),
        );
    }
    None
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

impl FileChooser {
    /// True while the system chooser is open.
    pub fn is_open(&self) -> bool {
        self.dialog.is_some() || self.prompt.is_some()
    }

    /// Shows the system chooser, or the path field when there is none.
    pub fn ask(&mut self, purpose: Purpose, ctx: &egui::Context) {
        if self.dialog.is_some() {
            return;
        }
        if let Some(reason) = no_chooser_reason() {
            self.prompt(purpose, Some(reason));
            return;
        }
        let p = purpose.clone();
        let task = Task::spawn("heapsight-file-chooser", ctx, move |_| match p {
            Purpose::Open => rfd::FileDialog::new()
                .set_title("Open a Java heap dump")
                .add_filter("Heap dumps", &["hprof", "gz", "bin", "dump"])
                .add_filter("All files", &["*"])
                .pick_file(),
            Purpose::SaveCsv { file_name, .. } => rfd::FileDialog::new()
                .set_title("Export as CSV")
                .set_file_name(file_name)
                .add_filter("CSV", &["csv"])
                .save_file(),
        });
        self.dialog = Some((purpose, task));
    }

    /// The path field, with `reason` saying why it is shown instead of the system chooser.
    pub fn prompt(&mut self, purpose: Purpose, reason: Option<String>) {
        let text = std::env::current_dir()
            .map(|d| format!("{}/", d.display()))
            .unwrap_or_default();
        self.prompt = Some(Prompt {
            purpose,
            text,
            reason,
            focus: true,
            message: None,
        });
    }

    /// Picks up the system chooser's answer; a file becomes a command.
    pub fn poll(&mut self, out: &mut Vec<Command>) {
        let Some((purpose, task)) = &mut self.dialog else {
            return;
        };
        match task.poll() {
            Poll::Running => {}
            Poll::Done(Some(path)) => {
                out.push(done(purpose.clone(), path));
                self.dialog = None;
            }
            Poll::Done(None) | Poll::Died => {
                let fast = task.started.elapsed() < TOO_FAST;
                let purpose = purpose.clone();
                self.dialog = None;
                if fast {
                    self.prompt(
                        purpose,
                        Some(
                            "The system file chooser did not open (no xdg-desktop-portal file \
                             chooser and no zenity on this desktop)."
                                .into(),
                        ),
                    );
                }
            }
        }
    }

    /// Draws the path field, if shown.
    pub fn ui(&mut self, ctx: &egui::Context, out: &mut Vec<Command>) {
        let Some(prompt) = &mut self.prompt else {
            return;
        };
        let mut close = false;
        let title = match prompt.purpose {
            Purpose::Open => "Open a heap dump",
            Purpose::SaveCsv { .. } => "Export as CSV",
        };
        egui::Window::new(title)
            .id(egui::Id::unique("heapsight.path-prompt"))
            .collapsible(false)
            .resizable(false)
            .default_width(560.0)
            .anchor(egui::Align2::CENTER_TOP, [0.0, 80.0])
            .show(ctx, |ui| {
                close = prompt_ui(ui, prompt, out);
            });
        if close {
            self.prompt = None;
        }
    }
}

fn done(purpose: Purpose, path: PathBuf) -> Command {
    match purpose {
        Purpose::Open => Command::Open(path),
        Purpose::SaveCsv { contents, .. } => Command::WriteFile { path, contents },
    }
}

/// The field, its completions and the buttons; true when finished.
fn prompt_ui(ui: &mut Ui, prompt: &mut Prompt, out: &mut Vec<Command>) -> bool {
    if let Some(reason) = &prompt.reason {
        ui.label(RichText::new(reason).color(ui.visuals().warn_fg_color));
        ui.add_space(4.0);
    }
    let label = ui.label("Path of the file (Tab completes):");
    let edit = egui::TextEdit::singleline(&mut prompt.text)
        .id_salt("heapsight.path-prompt.field")
        .desired_width(f32::INFINITY)
        .lock_focus(true)
        .font(egui::TextStyle::Monospace);
    let response = ui.add(edit).labelled_by(label.id);
    if std::mem::take(&mut prompt.focus) {
        response.request_focus();
    }
    let completions = complete(&prompt.text);
    if response.has_focus() && ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, Key::Tab)) {
        if let Some(common) = common_prefix(&completions) {
            if common.len() > prompt.text.len() {
                prompt.text = common;
                set_cursor_to_end(ui, response.id, &prompt.text);
            }
        }
    }
    let enter = response.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
    let mut finished = false;
    ui.add_space(4.0);
    egui::ScrollArea::vertical()
        .id_salt("heapsight.path-prompt.completions")
        .max_height(220.0)
        .show(ui, |ui| {
            for c in completions.iter().take(COMPLETIONS) {
                if ui.link(RichText::new(c).monospace()).clicked() {
                    prompt.text = c.clone();
                    prompt.focus = true;
                }
            }
        });
    if let Some(m) = &prompt.message {
        ui.colored_label(ui.visuals().error_fg_color, m);
    }
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        let verb = match prompt.purpose {
            Purpose::Open => "Open",
            Purpose::SaveCsv { .. } => "Save",
        };
        if ui.button(verb).clicked() || enter {
            let path = expand_home(prompt.text.trim());
            match &prompt.purpose {
                Purpose::Open if !path.is_file() => {
                    prompt.message = Some(format!("{} is not a file", path.display()));
                    prompt.focus = true;
                }
                purpose => {
                    out.push(done(purpose.clone(), path));
                    finished = true;
                }
            }
        }
        if ui.button("Cancel").clicked() || ui.input(|i| i.key_pressed(Key::Escape)) {
            finished = true;
        }
    });
    finished
}

fn set_cursor_to_end(ui: &Ui, id: egui::Id, text: &str) {
    if let Some(mut state) = egui::TextEdit::load_state(ui.ctx(), id) {
        let end = egui::text::CCursor::new(text.chars().count());
        state
            .cursor
            .set_char_range(Some(egui::text::CCursorRange::one(end)));
        state.store(ui.ctx(), id);
    }
}

fn expand_home(text: &str) -> PathBuf {
    match text.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|h| Path::new(&h).join(rest))
            .unwrap_or_else(|| PathBuf::from(text)),
        None => PathBuf::from(text),
    }
}

/// Entries of the typed directory whose names start with the typed file name: directories
/// (with a trailing `/`) and files, directories first, hidden ones only when asked for.
pub fn complete(text: &str) -> Vec<String> {
    let (dir, stem) = match text.rfind('/') {
        Some(i) => (&text[..=i], &text[i + 1..]),
        None => ("./", text),
    };
    let Ok(entries) = std::fs::read_dir(expand_home(dir)) else {
        return Vec::new();
    };
    let mut found: Vec<(bool, String)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with(stem) || (name.starts_with('.') && !stem.starts_with('.')) {
                return None;
            }
            let is_dir = e.path().is_dir();
            let prefix = if text.contains('/') { dir } else { "" };
            Some((
                !is_dir,
                format!("{prefix}{name}{}", if is_dir { "/" } else { "" }),
            ))
        })
        .take(2000)
        .collect();
    found.sort();
    found.into_iter().map(|(_, s)| s).collect()
}

/// The longest text every completion starts with.
fn common_prefix(items: &[String]) -> Option<String> {
    let first = items.first()?;
    let mut len = first.len();
    for s in &items[1..] {
        len = len.min(
            first
                .char_indices()
                .zip(s.chars())
                .take_while(|((_, a), b)| a == b)
                .last()
                .map_or(0, |((i, a), _)| i + a.len_utf8()),
        );
    }
    Some(first[..len].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_names_in_a_directory() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("app.hprof"), b"x").expect("write");
        std::fs::write(dir.path().join("app2.hprof"), b"x").expect("write");
        std::fs::create_dir(dir.path().join("apps")).expect("mkdir");
        let base = format!("{}/ap", dir.path().display());
        let found = complete(&base);
        assert_eq!(found.len(), 3);
        assert!(found[0].ends_with("apps/"), "directories first: {found:?}");
        assert_eq!(
            common_prefix(&found).as_deref(),
            Some(format!("{}/app", dir.path().display()).as_str())
        );
    }
}
