//! Where the window goes once the dump named on the command line has loaded.

use super::{Command, PathTarget, Tab};
use crate::heap::HeapIndex;

/// A place to open at start-up, named before the dump is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartupAction {
    Tab(Tab),
    /// Merged paths to GC roots of the first class with this name.
    PathsOfClass(String),
    /// Select the object with this id (shows it in the inspector).
    Select(u64),
    /// Expand the dominator tree down to the object with this id.
    Reveal(u64),
    /// Open hint N (0-based) and draw the path of its first evidence.
    Hint(usize),
}

impl StartupAction {
    /// The command that goes there in `index`'s dump (`None`: no such class or object).
    pub fn command(self, index: &HeapIndex) -> Option<Command> {
        match self {
            StartupAction::Tab(t) => Some(Command::ShowTab(t)),
            StartupAction::PathsOfClass(name) => index
                .classes()
                .by_name(&name)
                .next()
                .map(|c| Command::ShowPaths(PathTarget::Class(c))),
            StartupAction::Select(id) => index.find(id).map(Command::Select),
            StartupAction::Reveal(id) => index.find(id).map(Command::RevealInDominatorTree),
            StartupAction::Hint(i) => Some(Command::ShowHint(i)),
        }
    }
}
