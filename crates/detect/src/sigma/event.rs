//! [`SigmaEvent`]: an [`AuditEvent`] as rsigma sees it.

use std::borrow::Cow;
use std::cell::{Cell, OnceCell};

use mailtrail_event::{AuditEvent, EventKind, RecordType};
use rsigma_eval::{Event, EventValue};
use serde_json::Value;

use super::raw::{Record, into_owned};

use super::fields::{self, Canon, FieldTable, Resolution};

/// One event during evaluation: the normalised fields, and the original record parsed at most
/// once, and only if a rule asks for a field the mapping table does not have.
pub(crate) struct SigmaEvent<'a> {
    ev: &'a AuditEvent,
    table: &'a FieldTable,
    record: OnceCell<Option<Record<'a>>>,
    parses: &'a Cell<u64>,
}

impl<'a> SigmaEvent<'a> {
    /// Wraps `ev`; `parses` counts the records parsed (a figure the benchmarks report).
    pub(crate) fn new(ev: &'a AuditEvent, table: &'a FieldTable, parses: &'a Cell<u64>) -> Self {
        SigmaEvent {
            ev,
            table,
            record: OnceCell::new(),
            parses,
        }
    }

    /// The original record, split into fields on first use. `None` when the event has no record
    /// bytes or they are not a JSON object (a CSV row without its `AuditData`, say).
    fn record(&self) -> Option<&Record<'a>> {
        let ev: &'a AuditEvent = self.ev;
        self.record
            .get_or_init(|| {
                if ev.raw.is_empty() {
                    return None;
                }
                self.parses.set(self.parses.get() + 1);
                Record::parse(&ev.raw)
            })
            .as_ref()
    }

    fn record_lookup(&self, path: &str) -> Option<EventValue<'_>> {
        self.record()?.lookup(path)
    }

    /// The alert name of a Security & Compliance alert record (`Name`), which SigmaHQ's
    /// `threat_management` rules read as `eventName`.
    fn alert_name(&self) -> Option<EventValue<'_>> {
        const SECURITY_COMPLIANCE_ALERTS: u16 = 40;
        let is_alert = self
            .ev
            .record_type
            .as_ref()
            .and_then(RecordType::code)
            .is_some_and(|c| c == SECURITY_COMPLIANCE_ALERTS);
        if !is_alert {
            return None;
        }
        self.record()?.lookup("Name")
    }

    fn resolve(&self, resolution: &Resolution) -> Option<EventValue<'_>> {
        match resolution {
            Resolution::Canon(Canon::EventName) => {
                let op = fields::canon_value(Canon::Operation, self.ev);
                match (op, self.alert_name()) {
                    (Some(op), Some(name)) => Some(EventValue::Array(vec![op, name])),
                    (op, name) => op.or(name),
                }
            }
            // A sign-in's status is an object (Sentinel shows it whole in `Status`): the outcome,
            // the failure reason and the additional details all answer to it, so SigmaHQ's
            // `Status: Success` and `Status|contains: 'MFA Denied'` both mean what they say.
            Resolution::Canon(Canon::Outcome) if self.ev.kind == EventKind::SignIn => {
                let mut values = Vec::new();
                for v in [
                    fields::canon_value(Canon::Outcome, self.ev),
                    fields::canon_value(Canon::FailureReason, self.ev),
                    self.record_lookup("status.additionalDetails"),
                ]
                .into_iter()
                .flatten()
                {
                    match v {
                        EventValue::Array(a) => values.extend(a),
                        v => values.push(v),
                    }
                }
                fields::collapse(values)
            }
            Resolution::Canon(canon) => fields::canon_value(*canon, self.ev),
            // Some records keep a list as one string (cmdlet records of the Security & Compliance
            // Center write `Parameters` as the command line): then the record's value is used.
            Resolution::WholeList(list) => {
                if fields::has_list(self.ev, *list) {
                    fields::list_values(self.ev, *list, None)
                } else {
                    self.record_lookup(list_name(*list)).map(into_owned)
                }
            }
            Resolution::ListEntry(list, name) => {
                if fields::has_list(self.ev, *list) {
                    fields::list_values(self.ev, *list, Some(name))
                } else {
                    let path = format!("{}.{name}", list_name(*list));
                    self.record_lookup(&path).map(into_owned)
                }
            }
            Resolution::Record(path) => {
                fields::any_list_value(self.ev, path).or_else(|| self.record_lookup(path))
            }
        }
    }

    /// The normalised strings, for keyword search when there is no record to search.
    fn typed_strings(&self, visit: &mut dyn FnMut(&str)) {
        let ev = self.ev;
        visit(&ev.operation);
        for s in [
            &ev.workload,
            &ev.result_status,
            &ev.user_id,
            &ev.user_agent,
            &ev.app_id,
            &ev.client_app_id,
            &ev.mailbox_owner_upn,
            &ev.object_id,
        ]
        .into_iter()
        .flatten()
        {
            visit(s);
        }
        for nv in ev
            .parameters
            .iter()
            .chain(&ev.operation_properties)
            .chain(&ev.extended_properties)
            .chain(&ev.modified_properties)
        {
            visit(&nv.name);
            visit(&nv.value);
        }
    }
}

fn list_name(list: fields::List) -> &'static str {
    fields::LISTS
        .iter()
        .find(|(l, _)| *l == list)
        .map_or("", |(_, n)| n)
}

impl Event for SigmaEvent<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        match self.table.resolve(path) {
            Cow::Borrowed(r) => self.resolve(r),
            Cow::Owned(r) => self.resolve(&r).map(into_owned),
        }
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        let mut found = false;
        self.visit_string_values(&mut |s| found = found || pred(s));
        found
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        self.visit_string_values(&mut |s| out.push(Cow::Owned(s.to_owned())));
        out
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        match self.record() {
            Some(record) => record.visit_strings(visit),
            None => self.typed_strings(visit),
        }
    }

    /// A compact summary, not the record: rsigma uses this for correlation event references,
    /// which need the `id`. The record itself stays in [`AuditEvent::raw`].
    fn to_json(&self) -> Value {
        let ev = self.ev;
        serde_json::json!({
            "id": ev.record_id,
            "time": ev.time.to_string(),
            "kind": ev.kind.as_str(),
            "operation": ev.operation,
            "user": ev.user_id,
            "ip": ev.client_ip.map(|ip| ip.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailtrail_event::NameValue;

    fn event() -> AuditEvent {
        AuditEvent {
            record_id: "r1".into(),
            operation: "New-InboxRule".into(),
            workload: Some("Exchange".into()),
            parameters: vec![NameValue {
                name: "DeleteMessage".into(),
                value: "True".into(),
            }],
            raw: br#"{"Id":"r1","Operation":"New-InboxRule","Directionality":"Inbound","Parameters":[{"Name":"DeleteMessage","Value":"True"}]}"#
                .to_vec()
                .into(),
            ..Default::default()
        }
    }

    #[test]
    fn table_fields_do_not_parse_the_record() {
        let ev = event();
        let table = FieldTable::default();
        let parses = Cell::new(0);
        let se = SigmaEvent::new(&ev, &table, &parses);
        assert_eq!(
            se.get_field("eventName")
                .and_then(|v| v.as_str().map(|s| s.into_owned())),
            Some("New-InboxRule".to_owned())
        );
        assert!(se.get_field("Parameters.DeleteMessage").is_some());
        assert!(se.get_field("DeleteMessage").is_some());
        assert_eq!(parses.get(), 0);
    }

    #[test]
    fn other_fields_parse_the_record_once() {
        let ev = event();
        let table = FieldTable::default();
        let parses = Cell::new(0);
        let se = SigmaEvent::new(&ev, &table, &parses);
        assert_eq!(
            se.get_field("Directionality")
                .and_then(|v| v.as_str().map(|s| s.into_owned())),
            Some("Inbound".to_owned())
        );
        assert!(se.get_field("DeliveryAction").is_none());
        assert!(se.any_string_value(&|s| s == "Inbound"));
        assert_eq!(parses.get(), 1);
    }

    #[test]
    fn keyword_search_without_a_record_uses_the_normalised_strings() {
        let mut ev = event();
        ev.raw = Vec::new().into();
        let table = FieldTable::default();
        let parses = Cell::new(0);
        let se = SigmaEvent::new(&ev, &table, &parses);
        assert!(se.any_string_value(&|s| s == "DeleteMessage"));
        assert!(!se.any_string_value(&|s| s == "Inbound"));
    }
}
