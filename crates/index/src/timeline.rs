//! What one event did to a mailbox, in words an investigator reads down a timeline.

use mailtrail_event::{AuditEvent, MailAccessType};
use serde::Serialize;

/// One line of a mailbox timeline: who, with which application, from where, in which session,
/// and what was done or read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    /// When.
    pub time: String,
    /// The operation (`MailItemsAccessed`, `New-InboxRule`, `Add-MailboxPermission`, …).
    pub operation: String,
    /// Who: the user or application that acted.
    pub actor: Option<String>,
    /// The application that acted: `ClientAppId`, else `AppId`.
    pub app: Option<String>,
    /// The client address.
    pub ip: Option<String>,
    /// The session: Exchange `SessionId`, else `AADSessionId`.
    pub session: Option<String>,
    /// The token (`UniqueTokenId`), which joins the access to its sign-in.
    pub token: Option<String>,
    /// What was read or changed, e.g. `Bind: 3 messages in \Inbox (2), \Sent Items (1)`.
    pub detail: String,
    /// The `InternetMessageId`s the record names: for reads, the messages opened (Bind), the
    /// list of what was exposed; for sends, changes, moves and deletes, the messages acted on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub message_ids: Vec<String>,
    /// For reads, the folders read (Sync means the whole folder must be assumed read); for other
    /// mailbox operations, the folders their messages were in.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub folders: Vec<String>,
    /// The record id, for `mailtrail show` and `mailtrail prove`.
    pub record_id: String,
}

/// Parameters too long to show on one line are cut to this many characters.
const MAX_VALUE_CHARS: usize = 120;
/// Messages of a send, move or delete described one by one; the rest are counted.
const MAX_ITEMS_SHOWN: usize = 5;

impl TimelineEntry {
    /// Describes one event.
    pub fn describe(ev: &AuditEvent) -> TimelineEntry {
        let mut message_ids = Vec::new();
        let mut folders = Vec::new();
        let detail = match &ev.mail_access {
            Some(m) => {
                for f in &m.folders {
                    folders.extend(f.path.clone());
                    message_ids.extend(f.message_ids.iter().cloned());
                }
                let mut parts = Vec::new();
                let kind = m.access_type.as_ref().map_or("Access", |a| a.as_str());
                match m.access_type {
                    Some(MailAccessType::Sync) => {
                        parts.push(format!("Sync of {}", list_or(&folders, "a folder")));
                    }
                    _ => {
                        let per_folder: Vec<String> = m
                            .folders
                            .iter()
                            .map(|f| {
                                format!(
                                    "{} ({})",
                                    f.path.as_deref().unwrap_or("?"),
                                    f.message_ids.len()
                                )
                            })
                            .collect();
                        parts.push(format!(
                            "{kind}: {} message{} in {}",
                            message_ids.len(),
                            if message_ids.len() == 1 { "" } else { "s" },
                            list_or(&per_folder, "no folder listed")
                        ));
                    }
                }
                if let Some(n) = m.operation_count {
                    parts.push(format!("{n} operation{}", if n == 1 { "" } else { "s" }));
                }
                if m.is_throttled == Some(true) {
                    parts.push("THROTTLED: more was read than recorded".to_owned());
                }
                parts.join("; ")
            }
            None if !ev.items.is_empty() => {
                for i in &ev.items {
                    message_ids.extend(i.internet_message_id.clone());
                    if let Some(f) = &i.folder
                        && !folders.contains(f)
                    {
                        folders.push(f.clone());
                    }
                }
                let mut shown: Vec<String> = ev
                    .items
                    .iter()
                    .take(MAX_ITEMS_SHOWN)
                    .map(|i| {
                        let what = i
                            .subject
                            .as_deref()
                            .map_or_else(|| "a message".to_owned(), |s| format!("\"{}\"", cut(s)));
                        match &i.folder {
                            Some(f) => format!("{what} in {f}"),
                            None => what,
                        }
                    })
                    .collect();
                if ev.items.len() > MAX_ITEMS_SHOWN {
                    shown.push(format!("{} more", ev.items.len() - MAX_ITEMS_SHOWN));
                }
                let n = ev.items.len();
                format!(
                    "{n} message{}: {}",
                    if n == 1 { "" } else { "s" },
                    shown.join(", ")
                )
            }
            None => {
                let params: Vec<String> = ev
                    .parameters
                    .iter()
                    .map(|nv| format!("{}={}", nv.name, cut(&nv.value)))
                    .collect();
                if !params.is_empty() {
                    params.join(", ")
                } else {
                    ev.object_id.as_deref().map(cut).unwrap_or_default()
                }
            }
        };
        // What the record holds but could not be read: the reader must not take silence for
        // "nothing there".
        let detail = match (ev.unread.is_empty(), detail.is_empty()) {
            (true, _) => detail,
            (false, true) => format!("PARTLY UNREAD: {}", ev.unread.join("; ")),
            (false, false) => format!("{detail}; PARTLY UNREAD: {}", ev.unread.join("; ")),
        };
        TimelineEntry {
            time: ev.time.to_string(),
            operation: ev.operation.clone(),
            actor: ev.user_id.clone(),
            app: ev.client_app_id.clone().or_else(|| ev.app_id.clone()),
            ip: ev.client_ip.map(|ip| ip.to_string()),
            session: ev.session_id.clone().or_else(|| ev.aad_session_id.clone()),
            token: ev.unique_token_id.clone(),
            detail,
            message_ids,
            folders,
            record_id: ev.record_id.clone(),
        }
    }
}

fn list_or(items: &[String], empty: &str) -> String {
    if items.is_empty() {
        empty.to_owned()
    } else {
        items.join(", ")
    }
}

fn cut(s: &str) -> String {
    if s.chars().count() <= MAX_VALUE_CHARS {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(MAX_VALUE_CHARS).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailtrail_event::{Folder, MailAccess, MailItem, NameValue};

    #[test]
    fn bind_lists_messages_per_folder() {
        let ev = AuditEvent {
            operation: "MailItemsAccessed".into(),
            user_id: Some("app@contoso.com".into()),
            client_app_id: Some("d3590ed6".into()),
            mail_access: Some(MailAccess {
                access_type: Some(MailAccessType::Bind),
                operation_count: Some(3),
                is_throttled: Some(true),
                folders: vec![
                    Folder {
                        path: Some("\\Inbox".into()),
                        message_ids: vec!["<a@x>".into(), "<b@x>".into()],
                        ..Default::default()
                    },
                    Folder {
                        path: Some("\\Sent Items".into()),
                        message_ids: vec!["<c@x>".into()],
                        ..Default::default()
                    },
                ],
            }),
            ..Default::default()
        };
        let e = TimelineEntry::describe(&ev);
        assert_eq!(
            e.detail,
            "Bind: 3 messages in \\Inbox (2), \\Sent Items (1); 3 operations; THROTTLED: more was read than recorded"
        );
        assert_eq!(e.message_ids, ["<a@x>", "<b@x>", "<c@x>"]);
        assert_eq!(e.app.as_deref(), Some("d3590ed6"));
    }

    #[test]
    fn sync_names_folders_and_rules_show_parameters() {
        let sync = AuditEvent {
            mail_access: Some(MailAccess {
                access_type: Some(MailAccessType::Sync),
                folders: vec![Folder {
                    path: Some("\\Inbox".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(TimelineEntry::describe(&sync).detail, "Sync of \\Inbox");
        let rule = AuditEvent {
            operation: "New-InboxRule".into(),
            parameters: vec![NameValue {
                name: "ForwardTo".into(),
                value: "x@evil.example".into(),
            }],
            ..Default::default()
        };
        assert_eq!(
            TimelineEntry::describe(&rule).detail,
            "ForwardTo=x@evil.example"
        );
    }

    #[test]
    fn deletes_list_their_messages_and_count_the_rest() {
        let item = |n: usize| MailItem {
            internet_message_id: Some(format!("<{n}@x>")),
            subject: (n != 1).then(|| format!("Invoice {n}")),
            folder: Some(if n == 0 { "\\Inbox" } else { "\\Archive" }.into()),
        };
        let delete = AuditEvent {
            operation: "SoftDelete".into(),
            items: (0..7).map(item).collect(),
            ..Default::default()
        };
        let e = TimelineEntry::describe(&delete);
        assert_eq!(
            e.detail,
            "7 messages: \"Invoice 0\" in \\Inbox, a message in \\Archive, \"Invoice 2\" in \\Archive, \
             \"Invoice 3\" in \\Archive, \"Invoice 4\" in \\Archive, 2 more"
        );
        assert_eq!(e.message_ids.len(), 7);
        assert_eq!(e.folders, ["\\Inbox", "\\Archive"]);
    }

    #[test]
    fn parts_left_unread_are_said() {
        let delete = AuditEvent {
            operation: "HardDelete".into(),
            unread: vec!["field AffectedItems: neither a message nor a list of messages".into()],
            ..Default::default()
        };
        assert_eq!(
            TimelineEntry::describe(&delete).detail,
            "PARTLY UNREAD: field AffectedItems: neither a message nor a list of messages"
        );
        let rule = AuditEvent {
            parameters: vec![NameValue {
                name: "ForwardTo".into(),
                value: "x@evil.example".into(),
            }],
            unread: vec!["field Item: entries that are not messages (2)".into()],
            ..Default::default()
        };
        assert_eq!(
            TimelineEntry::describe(&rule).detail,
            "ForwardTo=x@evil.example; PARTLY UNREAD: field Item: entries that are not messages (2)"
        );
    }
}
