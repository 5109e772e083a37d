//! The sensitive-word filter for text users write (R-CONS-5): one Aho-Corasick pass
//! over a word list an operator maintains. The list is a file, one word per line (`#`
//! starts a comment); set `FUZHEN_BLOCKED_WORDS_FILE` to use your own, and edits to it
//! take effect within seconds, without a restart. Without it the built-in starter list
//! (`server/data/blocked_words.txt`) is used.
//!
//! Text and words are compared after folding what people use to slip past a list:
//! letter case, full-width letters and digits, and spaces or dots between characters
//! (`代 开·处方` matches `代开处方`).
use aho_corasick::{AhoCorasick, MatchKind};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

const BUILT_IN: &str = include_str!("../data/blocked_words.txt");

/// One compiled word list.
#[derive(Debug)]
pub struct WordFilter {
    matcher: AhoCorasick,
    words: Vec<String>,
}

impl WordFilter {
    pub fn from_list(list: &str) -> anyhow::Result<Self> {
        let mut words: Vec<String> = list
            .lines()
            .map(|l| l.split('#').next().unwrap_or_default())
            .map(fold)
            .filter(|w| !w.is_empty())
            .collect();
        words.sort();
        words.dedup();
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&words)?;
        Ok(Self { matcher, words })
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The listed words found in `text`, each once, in order of appearance; empty when
    /// the text may be used.
    pub fn find(&self, text: &str) -> Vec<String> {
        let folded = fold(text);
        let mut found: Vec<String> = Vec::new();
        for m in self.matcher.find_iter(&folded) {
            let word = &self.words[m.pattern().as_usize()];
            if !found.contains(word) {
                found.push(word.clone());
            }
        }
        found
    }
}

/// Lower-case, full-width ASCII to ASCII, and no separators between characters.
fn fold(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(c, '.' | '·' | '・' | '-' | '_' | '*' | '|' | '/' | '\\')
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The filter in use, swapped when its file changes.
pub struct Words {
    current: RwLock<Arc<WordFilter>>,
    file: Option<(PathBuf, RwLock<Option<SystemTime>>)>,
}

impl Words {
    /// The operator's list if a file is given (it must load: a typo in the path must not
    /// silently switch the filter off), the built-in one otherwise.
    pub fn load(file: Option<PathBuf>) -> anyhow::Result<Self> {
        let (filter, file) = match file {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    anyhow::anyhow!("FUZHEN_BLOCKED_WORDS_FILE {}: {e}", path.display())
                })?;
                let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
                (
                    WordFilter::from_list(&text)?,
                    Some((path, RwLock::new(modified))),
                )
            }
            None => (WordFilter::from_list(BUILT_IN)?, None),
        };
        Ok(Self {
            current: RwLock::new(Arc::new(filter)),
            file,
        })
    }

    pub fn filter(&self) -> Arc<WordFilter> {
        match self.current.read() {
            Ok(f) => f.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reloads the file if it changed since the last look. A list that fails to load
    /// keeps the one in use (and says so in the log).
    pub fn reload_if_changed(&self) -> bool {
        let Some((path, seen)) = &self.file else {
            return false;
        };
        let Ok(modified) = std::fs::metadata(path).and_then(|m| m.modified()) else {
            tracing::warn!(path = %path.display(), "blocked-words file unreadable; keeping the list in use");
            return false;
        };
        if seen.read().ok().and_then(|s| *s) == Some(modified) {
            return false;
        }
        let loaded = std::fs::read_to_string(path)
            .map_err(anyhow::Error::from)
            .and_then(|text| WordFilter::from_list(&text));
        match loaded {
            Ok(filter) => {
                tracing::info!(words = filter.len(), "blocked-words list reloaded");
                if let Ok(mut current) = self.current.write() {
                    *current = Arc::new(filter);
                }
                if let Ok(mut s) = seen.write() {
                    *s = Some(modified);
                }
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "blocked-words list did not load; keeping the one in use");
                false
            }
        }
    }

    /// Checks the file every few seconds for as long as the server runs.
    pub fn watch(self: Arc<Self>, every: Duration) {
        if self.file.is_none() {
            return;
        }
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                self.reload_if_changed();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-CONS-5: listed words are found however they are typed; clean text passes.
    #[test]
    fn finds_words_through_case_width_and_separators() {
        let f = WordFilter::from_list("# a comment\n代开处方\n\nVX号  # inline comment\n冰毒\n")
            .unwrap();
        assert_eq!(f.len(), 3);
        assert!(f.find("医生您好，我的血压最近控制得不错").is_empty());
        assert_eq!(f.find("可以帮我代开处方吗"), vec!["代开处方"]);
        assert_eq!(f.find("代 开·处 方"), vec!["代开处方"]);
        assert_eq!(f.find("加我ＶＸ号聊"), vec!["vx号"]);
        assert_eq!(
            f.find("冰毒 冰毒 代开处方"),
            vec!["冰毒", "代开处方"],
            "each once, in order"
        );
    }

    #[test]
    fn the_built_in_list_loads() {
        let words = Words::load(None).unwrap();
        assert!(words.filter().len() >= 20);
        assert!(!words.filter().find("出售处方药").is_empty());
    }

    // R-CONS-5: an operator's edit takes effect without a restart; a broken edit keeps
    // the list in use.
    #[test]
    fn an_edited_file_is_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("words.txt");
        std::fs::write(&path, "甲词\n").unwrap();
        let words = Words::load(Some(path.clone())).unwrap();
        assert!(!words.filter().find("有甲词").is_empty());
        assert!(!words.reload_if_changed(), "unchanged");
        // Make sure the modification time moves even on coarse file systems.
        std::fs::write(&path, "乙词\n").unwrap();
        let later = SystemTime::now() + Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert!(words.reload_if_changed());
        assert!(words.filter().find("有甲词").is_empty());
        assert!(!words.filter().find("有乙词").is_empty());
        std::fs::remove_file(&path).unwrap();
        assert!(!words.reload_if_changed(), "a vanished file keeps the list");
        assert!(!words.filter().find("有乙词").is_empty());
        assert!(Words::load(Some(dir.path().join("missing.txt"))).is_err());
    }
}
