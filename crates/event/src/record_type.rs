//! `RecordType`: the Unified Audit Log's record type, as a number, a name or both.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The `AuditLogRecordType` of a Unified Audit Log record.
///
/// The Management Activity API writes numbers, Purview exports and Sentinel write names (or numbers
/// as strings). Either way both are kept when the table below knows the pair; a value the table does
/// not know is kept as given, never dropped.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RecordType {
    code: Option<u16>,
    name: Option<Cow<'static, str>>,
}

/// Record types from Microsoft's `AuditLogRecordType` enumeration (Office 365 Management Activity API
/// schema). Those that matter to mail investigations are all here; the rest keep their number.
const TABLE: &[(u16, &str)] = &[
    (1, "ExchangeAdmin"),
    (2, "ExchangeItem"),
    (3, "ExchangeItemGroup"),
    (4, "SharePoint"),
    (6, "SharePointFileOperation"),
    (7, "OneDrive"),
    (8, "AzureActiveDirectory"),
    (9, "AzureActiveDirectoryAccountLogon"),
    (10, "DataCenterSecurityCmdlet"),
    (11, "ComplianceDLPSharePoint"),
    (12, "Sway"),
    (13, "ComplianceDLPExchange"),
    (14, "SharePointSharingOperation"),
    (15, "AzureActiveDirectoryStsLogon"),
    (16, "SkypeForBusinessPSTNUsage"),
    (17, "SkypeForBusinessUsersBlocked"),
    (18, "SecurityComplianceCenterEOPCmdlet"),
    (19, "ExchangeAggregatedOperation"),
    (20, "PowerBIAudit"),
    (21, "CRM"),
    (22, "Yammer"),
    (23, "SkypeForBusinessCmdlets"),
    (24, "Discovery"),
    (25, "MicrosoftTeams"),
    (28, "ThreatIntelligence"),
    (29, "MailSubmission"),
    (30, "MicrosoftFlow"),
    (31, "AeD"),
    (32, "MicrosoftStream"),
    (33, "ComplianceDLPSharePointClassification"),
    (34, "ThreatFinder"),
    (35, "Project"),
    (36, "SharePointListOperation"),
    (37, "SharePointCommentOperation"),
    (38, "DataGovernance"),
    (39, "Kaizala"),
    (40, "SecurityComplianceAlerts"),
    (41, "ThreatIntelligenceUrl"),
    (42, "SecurityComplianceInsights"),
    (43, "MIPLabel"),
    (44, "WorkplaceAnalytics"),
    (45, "PowerAppsApp"),
    (46, "PowerAppsPlan"),
    (47, "ThreatIntelligenceAtpContent"),
    (48, "LabelContentExplorer"),
    (49, "TeamsHealthcare"),
    (50, "ExchangeItemAggregated"),
    (51, "HygieneEvent"),
    (52, "DataInsightsRestApiAudit"),
    (53, "InformationBarrierPolicyApplication"),
    (54, "SharePointListItemOperation"),
    (55, "SharePointContentTypeOperation"),
    (56, "SharePointFieldOperation"),
    (57, "MicrosoftTeamsAdmin"),
    (58, "HRSignal"),
    (59, "MicrosoftTeamsDevice"),
    (60, "MicrosoftTeamsAnalytics"),
    (61, "InformationWorkerProtection"),
    (62, "Campaign"),
    (63, "DLPEndpoint"),
    (64, "AirInvestigation"),
    (65, "Quarantine"),
    (66, "MicrosoftForms"),
    (67, "ApplicationAudit"),
    (68, "ComplianceSupervisionExchange"),
    (69, "CustomerKeyServiceEncryption"),
    (70, "OfficeNative"),
    (71, "MipAutoLabelSharePointItem"),
    (72, "MipAutoLabelSharePointPolicyLocation"),
    (73, "MicrosoftTeamsShifts"),
    (75, "MipAutoLabelExchangeItem"),
    (76, "CortanaBriefing"),
    (78, "WDATPAlerts"),
    (82, "SensitivityLabelPolicyMatch"),
    (83, "SensitivityLabelAction"),
    (84, "SensitivityLabeledFileAction"),
    (85, "AttackSim"),
    (86, "AirManualInvestigation"),
    (87, "SecurityComplianceRBAC"),
    (88, "UserTraining"),
    (89, "AirAdminActionInvestigation"),
    (90, "MSTIC"),
    (91, "PhysicalBadgingSignal"),
    (93, "AipDiscover"),
    (94, "AipSensitivityLabelAction"),
    (95, "AipProtectionAction"),
    (96, "AipFileDeleted"),
    (97, "AipHeartBeat"),
    (98, "MCASAlerts"),
    (99, "OnPremisesFileShareScannerDlp"),
    (100, "OnPremisesSharePointScannerDlp"),
    (101, "ExchangeSearch"),
    (102, "PrivacyDataMinimization"),
    (103, "LabelAnalyticsAggregate"),
    (104, "MyAnalyticsSettings"),
    (105, "SecurityComplianceUserChange"),
    (106, "ComplianceDLPExchangeClassification"),
    (107, "ComplianceDLPEndpoint"),
    (109, "MipExactDataMatch"),
];

impl RecordType {
    /// A record type given as a number; the name is filled in when known.
    pub fn from_code(code: u16) -> Self {
        let name = TABLE
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, n)| Cow::Borrowed(*n));
        Self {
            code: Some(code),
            name,
        }
    }

    /// A record type given as a name (case-insensitive); the number is filled in when known.
    pub fn from_name(name: &str) -> Self {
        let name = name.trim();
        match TABLE.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)) {
            Some((code, n)) => Self {
                code: Some(*code),
                name: Some(Cow::Borrowed(*n)),
            },
            None => Self {
                code: None,
                name: Some(Cow::Owned(name.to_owned())),
            },
        }
    }

    /// Parses `"50"`, `"ExchangeItemAggregated"` or `" 50 "`; `None` for an empty string.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        Some(match s.parse::<u16>() {
            Ok(code) => Self::from_code(code),
            Err(_) => Self::from_name(s),
        })
    }

    /// The number, when given or known.
    pub fn code(&self) -> Option<u16> {
        self.code
    }

    /// The name, when given or known.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.name, self.code) {
            (Some(n), _) => f.write_str(n),
            (None, Some(c)) => write!(f, "{c}"),
            (None, None) => Ok(()),
        }
    }
}

/// Serialised as `{"code": 50, "name": "ExchangeItemAggregated"}`.
impl Serialize for RecordType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("RecordType", 2)?;
        st.serialize_field("code", &self.code)?;
        st.serialize_field("name", &self.name)?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for RecordType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Repr {
            code: Option<u16>,
            name: Option<String>,
        }
        let r = Repr::deserialize(d)?;
        Ok(match (r.code, r.name) {
            (Some(c), _) => Self::from_code(c),
            (None, Some(n)) => Self::from_name(&n),
            (None, None) => Self {
                code: None,
                name: None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names_meet() {
        let a = RecordType::parse("50");
        let b = RecordType::parse("exchangeitemaggregated");
        assert_eq!(a, b);
        assert_eq!(a.as_ref().and_then(|r| r.code()), Some(50));
        assert_eq!(
            RecordType::from_code(15).to_string(),
            "AzureActiveDirectoryStsLogon"
        );
    }

    #[test]
    fn unknown_values_are_kept() {
        assert_eq!(RecordType::from_code(999).code(), Some(999));
        assert_eq!(RecordType::from_code(999).name(), None);
        assert_eq!(RecordType::from_name("Future").name(), Some("Future"));
        assert_eq!(RecordType::parse("  "), None);
    }

    #[test]
    fn table_has_no_duplicates() {
        for (i, (c, n)) in TABLE.iter().enumerate() {
            for (c2, n2) in &TABLE[i + 1..] {
                assert_ne!(c, c2);
                assert_ne!(n, n2);
            }
        }
    }
}
