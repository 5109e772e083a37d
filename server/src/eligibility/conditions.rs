//! The list of common and chronic conditions a diagnosis is picked from (R-ELIG-2,
//! R-ELIG-3): ICD-10 code, Chinese and English names, the department that treats it,
//! and pinyin initials, from `server/data/conditions.csv` (built into the binary).
//! Search works on Chinese, pinyin initials, English and the ICD-10 code.
use app::domain::department::Department;
use serde::{Deserialize, Serialize};

const BUILT_IN: &str = include_str!("../../data/conditions.csv");

/// Answers at most this many matches.
pub const MAX_MATCHES: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Condition {
    pub icd10: String,
    pub name_zh: String,
    pub name_en: String,
    pub department: Department,
    /// Lower-case pinyin initials of `name_zh` (`gxy` for 高血压).
    pub initials: String,
}

#[derive(Deserialize)]
struct Row {
    icd10: String,
    name_zh: String,
    name_en: String,
    department: String,
    initials: String,
}

#[derive(Debug, Clone)]
pub struct Conditions {
    all: Vec<Condition>,
}

impl Conditions {
    /// The built-in list. Fails on a malformed row or an unknown department, so a bad
    /// data file stops the server at start, not a patient mid-upload.
    pub fn built_in() -> anyhow::Result<Self> {
        Self::parse(BUILT_IN)
    }

    pub fn parse(csv_text: &str) -> anyhow::Result<Self> {
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        let mut all = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (line, row) in reader.deserialize::<Row>().enumerate() {
            let row = row.map_err(|e| anyhow::anyhow!("conditions row {}: {e}", line + 2))?;
            let department = Department::parse(&row.department).ok_or_else(|| {
                anyhow::anyhow!(
                    "conditions row {}: department {:?}",
                    line + 2,
                    row.department
                )
            })?;
            anyhow::ensure!(
                seen.insert(row.icd10.clone()),
                "conditions row {}: {} twice",
                line + 2,
                row.icd10
            );
            all.push(Condition {
                icd10: row.icd10,
                name_zh: row.name_zh,
                name_en: row.name_en,
                department,
                initials: row.initials,
            });
        }
        Ok(Self { all })
    }

    /// The whole list, in file order.
    pub fn all(&self) -> &[Condition] {
        &self.all
    }

    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The condition with this exact code (case-insensitive).
    pub fn by_code(&self, icd10: &str) -> Option<&Condition> {
        let code = icd10.trim();
        self.all.iter().find(|c| c.icd10.eq_ignore_ascii_case(code))
    }

    /// Matches for what a patient or operator typed, best first: the exact code, a code
    /// prefix, a Chinese name starting with or containing the text, pinyin initials
    /// starting with it, an English name containing it.
    pub fn search(&self, query: &str) -> Vec<&Condition> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return Vec::new();
        }
        let mut ranked: Vec<(u8, &Condition)> = self
            .all
            .iter()
            .filter_map(|c| rank(c, &q).map(|r| (r, c)))
            .collect();
        ranked.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.icd10.cmp(&b.1.icd10)));
        ranked
            .into_iter()
            .take(MAX_MATCHES)
            .map(|(_, c)| c)
            .collect()
    }
}

fn rank(c: &Condition, q: &str) -> Option<u8> {
    let code = c.icd10.to_lowercase();
    if code == q {
        Some(0)
    } else if code.starts_with(q) {
        Some(1)
    } else if c.name_zh.starts_with(q) {
        Some(2)
    } else if c.name_zh.contains(q) {
        Some(3)
    } else if c.initials.starts_with(q) {
        Some(4)
    } else if c.initials.contains(q) && q.len() >= 2 {
        Some(5)
    } else if c.name_en.to_lowercase().contains(q) {
        Some(6)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Conditions {
        Conditions::built_in().expect("the built-in list parses")
    }

    // R-ELIG-2: at least 200 conditions, every department treats some.
    #[test]
    fn the_built_in_list_is_complete() {
        let l = list();
        assert!(l.len() >= 200, "{}", l.len());
        for d in app::domain::department::ALL_DEPARTMENTS {
            assert!(l.all.iter().any(|c| c.department == *d), "{d:?}");
        }
    }

    #[test]
    fn search_finds_by_chinese_initials_english_and_code() {
        let l = list();
        let first = |q: &str| l.search(q).first().map(|c| c.icd10.clone());
        assert_eq!(first("I10"), Some("I10".into()), "exact code first");
        assert_eq!(first("i10"), Some("I10".into()));
        assert_eq!(first("原发性高血压"), Some("I10".into()));
        assert!(l.search("高血压").iter().any(|c| c.icd10 == "I10"));
        assert!(l.search("yfxgxy").iter().any(|c| c.icd10 == "I10"));
        assert!(
            l.search("gxy").iter().any(|c| c.icd10 == "I10"),
            "initials inside"
        );
        assert!(l.search("hypertension").iter().any(|c| c.icd10 == "I10"));
        assert!(l.search("E11").iter().all(|c| c.icd10.starts_with("E11")));
        assert!(l.search("糖尿病").len() >= 2);
        assert!(l.search("").is_empty() && l.search("   ").is_empty());
        assert!(l.search("zzzzqqq").is_empty());
        assert!(l.search("病").len() <= MAX_MATCHES);
        assert_eq!(
            l.by_code("i10").map(|c| c.department),
            Some(Department::Cardiology)
        );
    }

    #[test]
    fn a_bad_data_file_is_refused() {
        let header = "icd10,name_zh,name_en,department,initials\n";
        assert!(
            Conditions::parse(&format!("{header}I10,高血压,Hypertension,heart,gxy\n")).is_err()
        );
        assert!(
            Conditions::parse(&format!(
                "{header}I10,高血压,Hypertension,cardiology,gxy\nI10,高血压,Hypertension,cardiology,gxy\n"
            ))
            .is_err()
        );
        assert!(Conditions::parse(&format!("{header}I10,高血压\n")).is_err());
    }
}
