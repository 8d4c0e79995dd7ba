//! The discovery rules, table-tested.
use super::*;
use crate::gateway::hip::Identifier;

fn patient(name: &str, gender: Gender, year: i32, mobile: &str) -> Patient {
    Patient {
        gender,
        year_of_birth: Some(year),
        mobile: Some(mobile.into()),
        ..Patient::new(name)
    }
}

fn query(name: &str, gender: Gender, year: i32, verified: Vec<(IdKind, &str)>) -> DiscoverQuery {
    DiscoverQuery {
        transaction_id: Uuid::nil(),
        abha_address: String::new(),
        name: name.into(),
        gender,
        year_of_birth: Some(year),
        verified: verified
            .into_iter()
            .map(|(kind, v)| Identifier {
                kind,
                value: v.into(),
            })
            .collect(),
        unverified: vec![],
    }
}

/// (case, patients here, query, expected: Ok(index of the patient) or Err(code)).
#[test]
fn the_discovery_rules() {
    let asha = || patient("Asha Kumari", Gender::F, 1990, "9876543210");
    let mut with_abha = asha();
    with_abha.abha_number = Some("91-1234-5678-9012".into());
    with_abha.abha_address = Some("asha@abdm".into());
    fn mobile(m: &'static str) -> Vec<(IdKind, &'static str)> {
        vec![(IdKind::Mobile, m)]
    }
    type Case = (
        &'static str,
        Vec<Patient>,
        DiscoverQuery,
        std::result::Result<usize, &'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            "a verified ABHA number matches whatever the name says",
            vec![asha(), with_abha.clone()],
            query(
                "A K",
                Gender::F,
                1990,
                vec![(IdKind::AbhaNumber, "91123456789012")],
            ),
            Ok(1),
        ),
        (
            "the ABHA address asking matches",
            vec![with_abha.clone()],
            DiscoverQuery {
                abha_address: "Asha@abdm".into(),
                ..query("x", Gender::F, 1990, vec![])
            },
            Ok(0),
        ),
        (
            "mobile, fuzzy name, gender and year",
            vec![
                asha(),
                patient("Ravi Shankar", Gender::M, 1985, "9876543210"),
            ],
            query("Aasha Kumari", Gender::F, 1991, mobile("+91-9876543210")),
            Ok(0),
        ),
        (
            "the year may be two off, not three",
            vec![asha()],
            query("Asha Kumari", Gender::F, 1993, mobile("9876543210")),
            Err("ABDM-1010"),
        ),
        (
            "the gender must agree",
            vec![asha()],
            query("Asha Kumari", Gender::M, 1990, mobile("9876543210")),
            Err("ABDM-1010"),
        ),
        (
            "another name on the same phone is someone else",
            vec![asha()],
            query("Ravi Shankar", Gender::F, 1990, mobile("9876543210")),
            Err("ABDM-1010"),
        ),
        (
            "an unverified mobile is not enough",
            vec![asha()],
            DiscoverQuery {
                unverified: vec![Identifier {
                    kind: IdKind::Mobile,
                    value: "9876543210".into(),
                }],
                ..query("Asha Kumari", Gender::F, 1990, vec![])
            },
            Err("ABDM-1010"),
        ),
        (
            "two alike on one phone: ambiguous, never a guess",
            vec![
                asha(),
                patient("Asha Kumari", Gender::F, 1990, "9876543210"),
            ],
            query("Asha Kumari", Gender::F, 1990, mobile("9876543210")),
            Err("HIP-1001"),
        ),
        (
            "two near on one phone: the exact name and year ranks first",
            vec![
                patient("Asha Kumari", Gender::F, 1991, "9876543210"),
                asha(),
            ],
            query("Asha Kumari", Gender::F, 1990, mobile("9876543210")),
            Ok(1),
        ),
        (
            "two fuzzy on one phone, neither exact: ambiguous",
            vec![
                patient("Asha Kumary", Gender::F, 1991, "9876543210"),
                patient("Aasha Kumari", Gender::F, 1989, "9876543210"),
            ],
            query("Asha Kumari", Gender::F, 1990, mobile("9876543210")),
            Err("HIP-1001"),
        ),
        (
            "no one here",
            vec![],
            query("Asha Kumari", Gender::F, 1990, mobile("9876543210")),
            Err("ABDM-1010"),
        ),
    ];
    for (case, patients, q, expected) in cases {
        let got = match_patient(&q, &patients)
            .map(|m| patients.iter().position(|p| p.id == m.patient_id).unwrap())
            .map_err(|r| r.code);
        assert_eq!(got, expected.map_err(String::from), "{case}");
    }
}

#[test]
fn a_medical_record_number_settles_two_alike() {
    let a = patient("Asha Kumari", Gender::F, 1990, "9876543210");
    let b = patient("Asha Kumari", Gender::F, 1990, "9876543210");
    let mut q = query(
        "Asha Kumari",
        Gender::F,
        1990,
        vec![(IdKind::Mobile, "9876543210")],
    );
    q.unverified.push(Identifier {
        kind: IdKind::MedicalRecord,
        value: b.id.to_string(),
    });
    let m = match_patient(&q, &[a, b.clone()]).unwrap();
    assert_eq!(m.patient_id, b.id);
    assert!(m.by.contains(&IdKind::MedicalRecord));
}
