//! A generated Unified Audit Log record survives every container with identical normalised fields
//! and identical raw bytes, and `normalize(source, raw)` gives back what `read` produced.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

mod util;

use mailtrail_event::{AuditEvent, SourceFormat};
use mailtrail_formats::{Input, ReadOptions, normalize};
use proptest::prelude::*;
use serde_json::{Value, json};
use util::{gzip, read_with, zip, zstd};

/// Text with the characters that break naive CSV and JSON handling.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9@._-]{1,24}",
        "[a-z ,;\"'\\\\\n\r\t{}\\[\\]]{1,24}",
        "\\PC{1,16}",
    ]
}

fn time() -> impl Strategy<Value = String> {
    (1_600_000_000i64..1_900_000_000, 0u32..10_000_000, 0usize..4).prop_map(
        |(secs, frac, shape)| {
            let t = jiff::Timestamp::from_second(secs).unwrap();
            let base = t.strftime("%Y-%m-%dT%H:%M:%S").to_string();
            match shape {
                0 => base,
                1 => format!("{base}Z"),
                2 => format!("{base}.{frac:07}"),
                _ => format!("{base}.{:03}Z", frac % 1000),
            }
        },
    )
}

fn client_ip() -> impl Strategy<Value = String> {
    (any::<[u8; 4]>(), any::<[u16; 8]>(), any::<u16>(), 0usize..5).prop_map(
        |(v4, v6, port, shape)| {
            let v4 = std::net::Ipv4Addr::from(v4);
            let v6 = std::net::Ipv6Addr::from(v6);
            match shape {
                0 => v4.to_string(),
                1 => format!("{v4}:{port}"),
                2 => format!("[{v6}]:{port}"),
                3 => v6.to_string(),
                _ => format!("::ffff:{v4}"),
            }
        },
    )
}

fn record() -> impl Strategy<Value = Value> {
    (
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        time(),
        prop_oneof![Just("MailItemsAccessed"), Just("Send"), Just("New-InboxRule"), Just("Set-Mailbox")],
        prop_oneof![Just(json!(50)), Just(json!("ExchangeItemAggregated")), Just(json!(1)), Just(json!("2"))],
        prop_oneof![Just(json!(0)), Just(json!("Admin")), Just(json!(5))],
        text(),
        client_ip(),
        proptest::collection::vec((text(), prop_oneof![text().prop_map(Value::from), any::<bool>().prop_map(Value::from), any::<i32>().prop_map(Value::from)]), 0..4),
        proptest::collection::vec(("[A-Za-z\\\\ ]{1,12}", proptest::collection::vec(text(), 0..3)), 0..3),
        prop_oneof![Just("Bind"), Just("Sync")],
        any::<bool>(),
    )
        .prop_map(|(id, time, op, rt, ut, user, ip, params, folders, access, throttled)| {
            json!({
                "CreationTime": time,
                "Id": id,
                "Operation": op,
                "OrganizationId": "b7f5d3c1-2a4e-4f6b-9c8d-0e1f2a3b4c5d",
                "RecordType": rt,
                "UserType": ut,
                "Workload": "Exchange",
                "UserId": user,
                "ClientIP": ip,
                "OriginatingServer": "DM6PR11MB4321 (15.20.6500.025)\r\n",
                "Parameters": params.iter().map(|(n, v)| json!({"Name": n, "Value": v})).collect::<Vec<_>>(),
                "OperationProperties": [{"Name": "MailAccessType", "Value": access}, {"Name": "IsThrottled", "Value": if throttled { "True" } else { "False" }}],
                "Folders": folders.iter().map(|(path, ids)| json!({
                    "Id": "LgAAAAB",
                    "Path": format!("\\{path}"),
                    "FolderItems": ids.iter().map(|m| json!({"InternetMessageId": m})).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "AppAccessContext": {"UniqueTokenId": "Q7rJ0fG2vU6a9kLmN3pXAA", "AADSessionId": "00b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"},
            })
        })
}

fn csv_cell(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The record in every container, with the source format each should report.
fn containers(raw: &str) -> Vec<(&'static str, Vec<u8>, SourceFormat)> {
    let ndjson = format!("{raw}\n");
    let array = format!("[\n  {raw}\n]");
    let current = format!(
        "\u{feff}RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\nx,2023-06-16T09:01:02.0000000Z,ExchangeItemAggregated,MailItemsAccessed,u,{},,\r\n",
        csv_cell(raw)
    );
    let classic = format!(
        "CreationDate,UserIds,Operations,AuditData\n6/16/2023 9:01:02 AM,u,op,{}\n",
        csv_cell(raw)
    );
    let sual = format!(
        "#TYPE Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.AuditRecord\r\n\"RecordType\",\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\",\"ResultIndex\",\"ResultCount\",\"Identity\",\"IsValid\",\"ObjectState\"\r\n\"ExchangeAdmin\",\"6/16/2023 9:01:02 AM\",\"u\",\"op\",{},\"1\",\"1\",\"x\",\"True\",\"Unchanged\"\r\n",
        csv_cell(raw)
    );
    vec![
        (
            "ndjson",
            ndjson.clone().into_bytes(),
            SourceFormat::UalNdjson,
        ),
        (
            "array",
            array.clone().into_bytes(),
            SourceFormat::ManagementApi,
        ),
        (
            "purview-current",
            current.clone().into_bytes(),
            SourceFormat::PurviewCsv,
        ),
        (
            "purview-classic",
            classic.into_bytes(),
            SourceFormat::PurviewCsvClassic,
        ),
        (
            "search-unifiedauditlog",
            sual.into_bytes(),
            SourceFormat::SearchUnifiedAuditLogCsv,
        ),
        ("gzip", gzip(ndjson.as_bytes()), SourceFormat::UalNdjson),
        ("zstd", zstd(array.as_bytes()), SourceFormat::ManagementApi),
        (
            "zip",
            zip(&[("a/current.csv", current.as_bytes())]),
            SourceFormat::PurviewCsv,
        ),
        (
            "zip-of-gzip",
            zip(&[("a.json.gz", &gzip(ndjson.as_bytes()))]),
            SourceFormat::UalNdjson,
        ),
    ]
}

fn without_source(ev: &AuditEvent) -> AuditEvent {
    AuditEvent {
        source: SourceFormat::default(),
        ..ev.clone()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_record_survives_every_container(value in record(), threads in 1usize..3) {
        let raw = serde_json::to_string(&value).unwrap();
        let mut reference: Option<AuditEvent> = None;
        for (name, data, source) in containers(&raw) {
            let r = read_with(&Input::bytes(name, data), ReadOptions { threads, ..Default::default() });
            prop_assert!(r.rejects.is_empty(), "{}: {:?}", name, r.rejects);
            prop_assert!(r.summary.errors().is_empty(), "{}: {:?}", name, r.summary.errors());
            prop_assert_eq!(r.events.len(), 1, "{}", name);
            let ev = &r.events[0];
            prop_assert_eq!(ev.source, source, "{}", name);
            prop_assert_eq!(&ev.raw[..], raw.as_bytes(), "{}", name);
            let again = normalize(ev.source, ev.raw.clone());
            prop_assert_eq!(again.as_ref(), Ok(ev), "{}", name);
            match &reference {
                None => reference = Some(without_source(ev)),
                Some(first) => prop_assert_eq!(&without_source(ev), first, "{}", name),
            }
        }
        let ev = reference.unwrap();
        prop_assert_eq!(ev.user_id.as_deref(), Some(value["UserId"].as_str().unwrap().trim()).filter(|s| !s.is_empty()));
        prop_assert!(ev.client_ip.is_some());
        prop_assert_eq!(ev.parameters.len(), value["Parameters"].as_array().unwrap().len());
        let ids: usize = value["Folders"].as_array().unwrap().iter().map(|f| f["FolderItems"].as_array().unwrap().len()).sum();
        if let Some(mail) = &ev.mail_access {
            prop_assert!(mail.message_ids().count() <= ids);
        }
    }
}
