use super::*;

fn abha(payload: &str) -> AbhaQr {
    match parse(payload).unwrap_or_else(|e| panic!("{payload}: {e}")) {
        Scanned::Abha(a) => *a,
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_abha_card_variant() {
    let a = abha(
        r#"{"hidn":"15-3638-0684-6247","hid":"kiranma@abdm","name":"Kiran Mandyam Anandampillai","gender":"M",
        "statelgd":"29","distlgd":"-","dob":"xx/9/19xx","state name":"Karnataka","district_name":"Bengaluru",
        "mobile":"984x1x2x6x","address":"C/O father name # door no"}"#,
    );
    assert_eq!(a.abha_number.as_deref(), Some("15-3638-0684-6247"));
    assert_eq!(a.abha_address.as_deref(), Some("kiranma@abdm"));
    assert_eq!(a.gender, "M");
    assert_eq!(
        a.date_of_birth,
        DateOfBirth {
            day: None,
            month: Some(9),
            year: None,
            text: Some("xx/9/19xx".into())
        }
    );
    assert_eq!(
        (a.state_lgd.as_deref(), a.district_lgd.as_deref()),
        (Some("29"), None),
        "`-` means unknown"
    );
    assert_eq!(
        (a.state.as_deref(), a.district.as_deref()),
        (Some("Karnataka"), Some("Bengaluru"))
    );
    assert!(a.mobile_masked);
}

#[test]
fn the_phr_app_variant_and_other_spellings() {
    let a = abha(
        r#"{"hidn":"42-7175-8604-4553","phr":"kiranma@sbx","name":"Kiran Anandampillai","gender":"M","statelgd":"4","distlgd":"44","dob":"xx-9-19xx","address":"As declared by the user"}"#,
    );
    assert_eq!(a.abha_address.as_deref(), Some("kiranma@sbx"));
    assert_eq!(a.date_of_birth.month, Some(9));
    let a = abha(
        r#"{"hidn":"91123456789012","phr":"asha.kumari@sbx","name":"Asha Kumari","gender":"F","dob":"12/4/1990","state_name":"Maharashtra","dist name":"Pune","mobile":"9876543210"}"#,
    );
    assert_eq!(
        a.abha_number.as_deref(),
        Some("91-1234-5678-9012"),
        "bare digits are dashed"
    );
    assert_eq!(
        (
            a.date_of_birth.day,
            a.date_of_birth.month,
            a.date_of_birth.year
        ),
        (Some(12), Some(4), Some(1990))
    );
    assert_eq!(
        (a.state.as_deref(), a.district.as_deref()),
        (Some("Maharashtra"), Some("Pune"))
    );
    assert!(!a.mobile_masked);
    // An address without an ABHA number (PHR address not linked).
    let a = abha(r#"{"phr":"someone@sbx","name":"Some One","gender":"O","dob":"1985"}"#);
    assert_eq!((a.abha_number, a.date_of_birth.year), (None, Some(1985)));
    assert_eq!(
        abha(r#"{"hid":"a.b.c@sbx","name":"X Y","gender":"F","dob":"05-11-2001"}"#)
            .date_of_birth
            .day,
        Some(5)
    );
}

#[test]
fn counter_codes_and_bare_identifiers() {
    assert_eq!(
        parse(
            "https://phrsbx.abdm.gov.in/share-profile?hip-id=IN2710000001_1&counter-id=COUNTER-1"
        )
        .unwrap(),
        Scanned::Counter {
            hip_id: "IN2710000001_1".into(),
            counter_id: "COUNTER-1".into()
        }
    );
    assert_eq!(
        parse("https://phr.abdm.gov.in/share-profile?hip-id=X"),
        Err(QrError::BadCounter)
    );
    assert_eq!(
        parse(" 91-1234-5678-9012 ").unwrap(),
        Scanned::AbhaNumber {
            abha_number: "91-1234-5678-9012".into()
        }
    );
    assert_eq!(
        parse("Asha.Kumari@sbx").unwrap(),
        Scanned::AbhaAddress {
            abha_address: "asha.kumari@sbx".into()
        }
    );
}

#[test]
fn malformed_codes_get_precise_errors() {
    assert_eq!(parse("   "), Err(QrError::Empty));
    assert!(matches!(
        parse(r#"{"hidn":"15-3638""#),
        Err(QrError::BadJson(_))
    ));
    assert_eq!(
        parse(r#"{"name":"X","gender":"M"}"#),
        Err(QrError::Missing("ABHA number or address"))
    );
    assert_eq!(
        parse(r#"{"hidn":"91-1234-5678-9012","gender":"M"}"#),
        Err(QrError::Missing("name"))
    );
    assert!(matches!(
        parse(r#"{"hidn":"91-1234-5678","name":"X","gender":"M"}"#),
        Err(QrError::Invalid {
            field: "ABHA number",
            ..
        })
    ));
    assert!(matches!(
        parse(r#"{"hidn":"91-1234-5678-9012","name":"X","gender":"Q"}"#),
        Err(QrError::Invalid {
            field: "gender",
            ..
        })
    ));
    assert!(matches!(
        parse(r#"{"hidn":"91-1234-5678-9012","name":"X","gender":"M","dob":"31/13/1990"}"#),
        Err(QrError::Invalid {
            field: "date of birth",
            ..
        })
    ));
    assert!(matches!(
        parse(r#"{"hidn":"91-1234-5678-9012","name":"X","gender":"M","mobile":"12345"}"#),
        Err(QrError::Invalid {
            field: "mobile",
            ..
        })
    ));
    assert_eq!(
        parse("https://example.com/whatever"),
        Err(QrError::Unrecognised)
    );
    assert_eq!(parse("hello world"), Err(QrError::Unrecognised));
    assert!(matches!(
        parse("12-34"),
        Err(QrError::Invalid {
            field: "ABHA number",
            ..
        })
    ));
}

#[test]
fn printed_codes_read_back_as_what_was_printed() {
    let url = counter_url(PhrHost::Production, "IN2710000001_1", "DESK-2").unwrap();
    assert!(url.starts_with("https://phr.abdm.gov.in/share-profile?"));
    assert_eq!(
        parse(&url).unwrap(),
        Scanned::Counter {
            hip_id: "IN2710000001_1".into(),
            counter_id: "DESK-2".into()
        }
    );
    for bad in ["", "front desk", "a&counter-id=b", "123456789012345678901"] {
        assert!(
            matches!(
                counter_url(PhrHost::Sandbox, "IN27", bad),
                Err(QrError::Invalid {
                    field: "counter id",
                    ..
                })
            ),
            "{bad:?} was accepted as a counter id"
        );
    }
    let card = abha(
        r#"{"hidn":"91-1234-5678-9012","hid":"asha.k@sbx","name":"Asha Kumari","gender":"F",
            "dob":"12/4/1990","mobile":"98xxxxxx10","state name":"Bihar","dist name":"Patna"}"#,
    );
    let again = abha(&card_payload(&card));
    assert_eq!(again.mobile, None, "a masked mobile is not printed");
    assert_eq!(
        Scanned::Abha(Box::new(again)),
        Scanned::Abha(Box::new(AbhaQr {
            mobile: None,
            mobile_masked: false,
            ..card
        }))
    );
}
