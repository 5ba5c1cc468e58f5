//! Microsoft first-party application ids: what the `AppId`, `ClientAppId` and sign-in `appId` values
//! that every tenant sees actually are.
//!
//! The table names applications so that reports can say "Outlook Mobile" instead of a GUID. It is
//! **not** an allow-list: a forged or stolen token can carry any of these ids (Storm-0558's forged
//! tokens claimed first-party clients), so detections use it to name apps, never to trust them.
//!
//! Sources:
//! * Microsoft Learn, "Verify first-party Microsoft applications in sign-in reports", section
//!   "Application IDs of commonly used Microsoft applications"
//!   (<https://learn.microsoft.com/troubleshoot/entra/entra-id/governance/verify-first-party-apps-sign-in>).
//!   Every entry below comes from that table unless its `source` says otherwise.
//! * Microsoft Learn, Exchange Server, "Enable Modern Authentication in Exchange on-premises with
//!   AD FS" lists `f8d98a96-…` (iOS Accounts) beside `d3590ed6-…` (Microsoft Office) as Outlook clients.
//! * One Outlook Web (`9199bf20-…`) is not in the table above; it is the Microsoft-owned service
//!   principal (owner tenant `f8cdef31-a31e-4b4a-93e4-5f571e91255a`) that Outlook on the web signs
//!   in as, visible in every tenant's service principal list.

use std::fmt;

/// What kind of application an id stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AppKind {
    /// A resource (an API tokens are issued for): Exchange Online, Microsoft Graph, SharePoint.
    Resource,
    /// A client people use: Outlook, Teams, a browser portal.
    Client,
    /// A Microsoft back-end service acting on its own (Substrate, Teams services).
    Service,
    /// An administration tool or portal.
    Admin,
}

impl AppKind {
    /// A short lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resource => "resource",
            Self::Client => "client",
            Self::Service => "service",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for AppKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One Microsoft first-party application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FirstPartyApp {
    /// The application (client) id, lower case.
    pub id: &'static str,
    /// The display name Microsoft gives it in sign-in logs.
    pub name: &'static str,
    /// What it is.
    pub kind: AppKind,
    /// What it does, in a sentence, as an investigator needs to know it.
    pub about: &'static str,
    /// Where the id is documented, when not in the "commonly used Microsoft applications" table.
    pub source: Option<&'static str>,
}

macro_rules! app {
    ($id:literal, $name:literal, $kind:ident, $about:literal) => {
        FirstPartyApp {
            id: $id,
            name: $name,
            kind: AppKind::$kind,
            about: $about,
            source: None,
        }
    };
    ($id:literal, $name:literal, $kind:ident, $about:literal, $source:literal) => {
        FirstPartyApp {
            id: $id,
            name: $name,
            kind: AppKind::$kind,
            about: $about,
            source: Some($source),
        }
    };
}

/// The table, sorted by id so lookups can binary-search.
pub const FIRST_PARTY_APPS: &[FirstPartyApp] = &[
    app!(
        "00000002-0000-0000-c000-000000000000",
        "Windows Azure Active Directory",
        Resource,
        "The legacy Azure AD Graph API."
    ),
    app!(
        "00000002-0000-0ff1-ce00-000000000000",
        "Office 365 Exchange Online",
        Resource,
        "Exchange Online itself: EWS, REST, MAPI, ActiveSync and Exchange PowerShell tokens are issued for it."
    ),
    app!(
        "00000003-0000-0000-c000-000000000000",
        "Microsoft Graph",
        Resource,
        "The Microsoft Graph API; mail read through Graph shows this AppId."
    ),
    app!(
        "00000003-0000-0ff1-ce00-000000000000",
        "Office 365 SharePoint Online",
        Resource,
        "SharePoint Online and OneDrive for Business."
    ),
    app!(
        "00000004-0000-0ff1-ce00-000000000000",
        "Skype for Business Online",
        Resource,
        "Skype for Business Online, still used by Teams for presence and calling."
    ),
    app!(
        "00000006-0000-0ff1-ce00-000000000000",
        "Microsoft Office 365 Portal",
        Client,
        "The Microsoft 365 portal."
    ),
    app!(
        "00000007-0000-0ff1-ce00-000000000000",
        "Microsoft Exchange Online Protection",
        Service,
        "Exchange Online Protection (anti-spam and anti-malware)."
    ),
    app!(
        "00b41c95-dab0-4487-9791-b9d2c32c80f2",
        "Office 365 Management",
        Client,
        "The Office 365 Management Activity API and admin mobile app."
    ),
    app!(
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "Microsoft Azure CLI",
        Admin,
        "The Azure command-line interface."
    ),
    app!(
        "0f698dd4-f011-4d23-a33e-b36416dcb1e6",
        "OfficeClientService",
        Service,
        "Office client services (roaming settings, licensing)."
    ),
    app!(
        "1950a258-227b-4e31-a9cf-717495945fc2",
        "Microsoft Azure PowerShell",
        Admin,
        "Azure PowerShell."
    ),
    app!(
        "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
        "Microsoft Teams",
        Client,
        "The Teams desktop and mobile clients."
    ),
    app!(
        "26a7ee05-5602-4d76-a7ba-eae8b7b67941",
        "Windows Search",
        Client,
        "Windows search, which reads Microsoft 365 content for the start menu."
    ),
    app!(
        "27922004-5251-4030-b22d-91ecd9a37ea4",
        "Outlook Mobile",
        Client,
        "Outlook for iOS and Android; its cloud service synchronises the mailbox through REST."
    ),
    app!(
        "29d9ed98-a469-4536-ade2-f981bc1d605e",
        "Microsoft Authentication Broker",
        Client,
        "The broker (Authenticator, Company Portal) that signs mobile apps in."
    ),
    app!(
        "4345a7b9-9a63-4910-a426-35363201d503",
        "O365 Suite UX",
        Client,
        "The Microsoft 365 suite header and app launcher."
    ),
    app!(
        "4765445b-32c6-49b0-83e6-1d93765276ca",
        "OfficeHome",
        Client,
        "The office.com / microsoft365.com home page."
    ),
    app!(
        "497effe9-df71-4043-a8bb-14cf78c4b63b",
        "Exchange Admin Center",
        Admin,
        "The Exchange admin center web portal."
    ),
    app!(
        "4b233688-031c-404b-9a80-a4f3f2351f90",
        "Office.com",
        Client,
        "Office.com."
    ),
    app!(
        "5d661950-3475-41cd-a2c3-d671a3162bc1",
        "Microsoft Outlook",
        Client,
        "Older Outlook desktop and Outlook for Mac builds."
    ),
    app!(
        "5e3ce6c0-2b1f-4285-8d4b-75ee78787346",
        "Microsoft Teams Web Client",
        Client,
        "Teams in a browser."
    ),
    app!(
        "80ccca67-54bd-44ab-8625-4b79c4dc7775",
        "Microsoft 365 Security and Compliance Center",
        Admin,
        "The Purview / Security & Compliance portal, where content searches and exports are run."
    ),
    app!(
        "89bee1f7-5e6e-4d8a-9f3d-ecd601259da7",
        "Office365 Shell WCSS-Client",
        Client,
        "The Microsoft 365 web shell loaded by Outlook on the web and other web apps."
    ),
    app!(
        "9199bf20-a13f-4107-85dc-02114787ef48",
        "One Outlook Web",
        Client,
        "Outlook on the web (the new Outlook for Windows is built on it).",
        "Microsoft-owned service principal (owner tenant f8cdef31-a31e-4b4a-93e4-5f571e91255a) present in every tenant; not in the commonly used applications table"
    ),
    app!(
        "98db8bd6-0cc0-4e67-9de5-f187f1cd1b41",
        "Microsoft Substrate Management",
        Service,
        "Substrate, the Microsoft 365 back end that indexes mail for search, Teams and Copilot."
    ),
    app!(
        "ab9b8c07-8f02-4f72-87fa-80105867a763",
        "OneDrive SyncEngine",
        Client,
        "The OneDrive sync client."
    ),
    app!(
        "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        "Azure Portal",
        Admin,
        "The Azure and Entra admin portals."
    ),
    app!(
        "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
        "Microsoft Teams Services",
        Service,
        "Teams back-end services, which read calendars and mail on the user's behalf."
    ),
    app!(
        "d3590ed6-52b3-4102-aeff-aad2292ab01c",
        "Microsoft Office",
        Client,
        "Microsoft 365 Apps, including Outlook for Windows (MAPI over HTTP)."
    ),
    app!(
        "f8d98a96-0999-43f5-8af3-69971c7bb423",
        "iOS Accounts",
        Client,
        "The native iOS Mail app, which uses Exchange ActiveSync with modern authentication.",
        "Microsoft Learn, Exchange Server: Enable Modern Authentication in Exchange on-premises with AD FS"
    ),
    app!(
        "fb78d390-0c51-40cd-8e17-fdbfab77341b",
        "Microsoft Exchange REST API Based Powershell",
        Admin,
        "Exchange Online PowerShell (the EXO V3 module); cmdlets such as New-InboxRule and Add-MailboxPermission run through it."
    ),
];

/// Looks a Microsoft first-party application up by its id (any case).
///
/// `None` means "not in this table", not "not Microsoft's": Microsoft owns thousands of service
/// principals and this table lists those an investigator of mail access meets.
pub fn first_party_app(id: &str) -> Option<&'static FirstPartyApp> {
    let id = id.trim();
    if id.len() != 36 {
        return None;
    }
    let mut buf = [0u8; 36];
    for (b, c) in buf.iter_mut().zip(id.bytes()) {
        *b = c.to_ascii_lowercase();
    }
    let key = std::str::from_utf8(&buf).ok()?;
    FIRST_PARTY_APPS
        .binary_search_by(|app| app.id.cmp(key))
        .ok()
        .map(|i| &FIRST_PARTY_APPS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_lower_case() {
        for pair in FIRST_PARTY_APPS.windows(2) {
            assert!(
                pair[0].id < pair[1].id,
                "{} before {}",
                pair[0].id,
                pair[1].id
            );
        }
        for app in FIRST_PARTY_APPS {
            assert_eq!(app.id, app.id.to_ascii_lowercase());
            assert_eq!(app.id.len(), 36);
            assert!(!app.name.is_empty() && !app.about.is_empty());
        }
    }

    #[test]
    fn lookup_finds_exchange_and_graph_in_any_case() {
        let exo = first_party_app("00000002-0000-0FF1-CE00-000000000000");
        assert_eq!(exo.map(|a| a.name), Some("Office 365 Exchange Online"));
        assert_eq!(
            first_party_app(" 00000003-0000-0000-c000-000000000000 ").map(|a| a.kind),
            Some(AppKind::Resource)
        );
        assert_eq!(
            first_party_app("27922004-5251-4030-b22d-91ecd9a37ea4").map(|a| a.name),
            Some("Outlook Mobile")
        );
    }

    #[test]
    fn lookup_rejects_unknown_and_malformed_ids() {
        assert!(first_party_app("11111111-2222-3333-4444-555555555555").is_none());
        assert!(first_party_app("").is_none());
        assert!(first_party_app("not-an-id").is_none());
        assert!(first_party_app("ü0000002-0000-0ff1-ce00-00000000000").is_none());
    }
}
