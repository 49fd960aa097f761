//! Entering and leaving the terminal's UI modes (raw mode, alternate screen, mouse capture),
//! restored on every way out: normal exit, error, and panic (a hook restores first, then
//! prints the panic on the normal screen).

use std::io::{Stdout, stdout};
use std::sync::Once;

use anyhow::{Context, Result};
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

use super::app::App;
use super::draw;
use super::tasks::LoadCounters;

pub struct Terminal {
    inner: ratatui::Terminal<CrosstermBackend<Stdout>>,
}

fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(stdout(), DisableMouseCapture, LeaveAlternateScreen, Show);
}

static HOOK: Once = Once::new();

impl Terminal {
    pub fn enter() -> Result<Self> {
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        });
        enable_raw_mode().context("the terminal (raw mode)")?;
        if let Err(e) = execute!(stdout(), EnterAlternateScreen, EnableMouseCapture) {
            restore();
            return Err(e).context("the terminal (alternate screen)");
        }
        let inner = ratatui::Terminal::new(CrosstermBackend::new(stdout()));
        match inner {
            Ok(inner) => Ok(Self { inner }),
            Err(e) => {
                restore();
                Err(e).context("the terminal")
            }
        }
    }

    pub fn size(&self) -> Result<(u16, u16)> {
        let s = self.inner.size()?;
        Ok((s.width, s.height))
    }

    pub fn draw(&mut self, app: &App, counters: Option<&LoadCounters>) -> Result<()> {
        self.inner.draw(|f| draw::draw(f, app, counters))?;
        Ok(())
    }

    /// Put `text` on the clipboard through the terminal (OSC 52).
    pub fn copy(&mut self, text: &str) -> Result<()> {
        super::write_raw(self.inner.backend_mut(), super::osc52(text).as_bytes())?;
        Ok(())
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        restore();
    }
}
