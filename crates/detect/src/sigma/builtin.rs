//! The built-in rule pack: mailtrail's own Sigma rules, embedded in the binary.
//!
//! The YAML lives in `crates/detect/rules/`, one file per rule (or per detection rule and the
//! correlation over it); `docs/sigma.md` describes each. A test checks that every file there is
//! listed here.

/// `(file name, YAML)` of every built-in rule file.
pub(crate) const PACK: &[(&str, &str)] = &[
    (
        "entra_app_credential_added.yml",
        include_str!("../../rules/entra_app_credential_added.yml"),
    ),
    (
        "entra_consent_to_mail_scopes.yml",
        include_str!("../../rules/entra_consent_to_mail_scopes.yml"),
    ),
    (
        "entra_federation_changed.yml",
        include_str!("../../rules/entra_federation_changed.yml"),
    ),
    (
        "entra_password_spray.yml",
        include_str!("../../rules/entra_password_spray.yml"),
    ),
    (
        "exchange_full_access_granted.yml",
        include_str!("../../rules/exchange_full_access_granted.yml"),
    ),
    (
        "exchange_inbox_rule_deletes_or_hides_mail.yml",
        include_str!("../../rules/exchange_inbox_rule_deletes_or_hides_mail.yml"),
    ),
    (
        "exchange_inbox_rule_forwards_mail.yml",
        include_str!("../../rules/exchange_inbox_rule_forwards_mail.yml"),
    ),
    (
        "exchange_inbox_rule_keyword_filter.yml",
        include_str!("../../rules/exchange_inbox_rule_keyword_filter.yml"),
    ),
    (
        "exchange_mail_items_accessed_throttled.yml",
        include_str!("../../rules/exchange_mail_items_accessed_throttled.yml"),
    ),
    (
        "exchange_mailbox_audit_bypass_or_disabled.yml",
        include_str!("../../rules/exchange_mailbox_audit_bypass_or_disabled.yml"),
    ),
    (
        "exchange_mailbox_forwarding_set.yml",
        include_str!("../../rules/exchange_mailbox_forwarding_set.yml"),
    ),
    (
        "exchange_protocol_access_enabled.yml",
        include_str!("../../rules/exchange_protocol_access_enabled.yml"),
    ),
    (
        "exchange_send_as_granted.yml",
        include_str!("../../rules/exchange_send_as_granted.yml"),
    ),
    (
        "exchange_transport_rule_copies_mail.yml",
        include_str!("../../rules/exchange_transport_rule_copies_mail.yml"),
    ),
    (
        "purview_ediscovery_export.yml",
        include_str!("../../rules/purview_ediscovery_export.yml"),
    ),
    (
        "purview_ediscovery_search_created.yml",
        include_str!("../../rules/purview_ediscovery_search_created.yml"),
    ),
    (
        "ual_app_credential_added.yml",
        include_str!("../../rules/ual_app_credential_added.yml"),
    ),
    (
        "ual_consent_to_mail_scopes.yml",
        include_str!("../../rules/ual_consent_to_mail_scopes.yml"),
    ),
    (
        "ual_federation_changed.yml",
        include_str!("../../rules/ual_federation_changed.yml"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_file_is_in_the_pack() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".yml"))
                    .collect()
            })
            .unwrap_or_default();
        on_disk.sort();
        let mut packed: Vec<String> = PACK.iter().map(|(n, _)| (*n).to_owned()).collect();
        packed.sort();
        assert!(!packed.is_empty());
        assert_eq!(on_disk, packed);
    }
}
