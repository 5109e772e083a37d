//! The hospital's clinical departments: a diagnosis is treated by one (R-ELIG-3), a
//! doctor belongs to one, and a follow-up consult is booked with one.
use serde::{Deserialize, Serialize};

/// Declares `Department` once: each with its stable code and its Chinese and English
/// names. Generates the enum, `as_str`, `parse`, `name` and `ALL_DEPARTMENTS`.
macro_rules! departments {
    ($( $variant:ident => $code:literal, $zh:literal, $en:literal; )+) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        pub enum Department {
            $( #[serde(rename = $code)] $variant, )+
        }

        impl Department {
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Department::$variant => $code, )+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $( $code => Some(Department::$variant), )+
                    _ => None,
                }
            }

            /// The department's name as the hospital signs it.
            pub const fn name(self, english: bool) -> &'static str {
                match (self, english) {
                    $( (Department::$variant, false) => $zh, (Department::$variant, true) => $en, )+
                }
            }
        }

        pub const ALL_DEPARTMENTS: &[Department] = &[ $( Department::$variant ),+ ];
    };
}

departments! {
    Cardiology => "cardiology", "心血管内科", "Cardiology";
    Endocrinology => "endocrinology", "内分泌科", "Endocrinology";
    Respiratory => "respiratory", "呼吸与危重症医学科", "Respiratory medicine";
    Gastroenterology => "gastroenterology", "消化内科", "Gastroenterology";
    Neurology => "neurology", "神经内科", "Neurology";
    Nephrology => "nephrology", "肾内科", "Nephrology";
    Rheumatology => "rheumatology", "风湿免疫科", "Rheumatology";
    Hematology => "hematology", "血液科", "Haematology";
    Infectious => "infectious", "感染科", "Infectious diseases";
    Dermatology => "dermatology", "皮肤科", "Dermatology";
    Psychiatry => "psychiatry", "精神心理科", "Psychiatry and psychology";
    Pediatrics => "pediatrics", "儿科", "Paediatrics";
    Gynecology => "gynecology", "妇科", "Gynaecology";
    Urology => "urology", "泌尿外科", "Urology";
    Orthopedics => "orthopedics", "骨科", "Orthopaedics";
    Ophthalmology => "ophthalmology", "眼科", "Ophthalmology";
    Ent => "ent", "耳鼻咽喉科", "Ear, nose and throat";
    Stomatology => "stomatology", "口腔科", "Stomatology";
    Oncology => "oncology", "肿瘤科", "Oncology";
    Tcm => "tcm", "中医科", "Traditional Chinese medicine";
    General => "general", "全科医学科", "General practice";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for d in ALL_DEPARTMENTS {
            assert_eq!(Department::parse(d.as_str()), Some(*d));
            assert!(seen.insert(d.as_str()));
            assert!(!d.name(false).is_empty() && !d.name(true).is_empty());
        }
        assert_eq!(Department::parse("Cardiology"), None, "codes are exact");
    }
}
