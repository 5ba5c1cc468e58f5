#!/usr/bin/env python3
"""Writes the fixtures in `data/`. Run from anywhere: `python3 make_fixtures.py`.

Every record is written by hand from Microsoft's published schemas (see data/README.md); the values are
invented (contoso.example, documentation IP ranges) but shaped like real exports. The output is
deterministic, so re-running it changes nothing unless this script changes.
"""
import csv
import io
import json
import os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
TENANT = "b7f5d3c1-2a4e-4f6b-9c8d-0e1f2a3b4c5d"
GRAPH = "00000003-0000-0000-c000-000000000000"
EXO = "00000002-0000-0ff1-ce00-000000000000"
OFFICE = "d3590ed6-52b3-4102-aeff-aad2292ab01c"
EVIL_APP = "7c0f5e2a-9b1d-4c3e-8f6a-2d4b6e8a0c13"
MEGAN = "megan@contoso.example"
ADELE = "adele@contoso.example"
ADMIN = "admin@contoso.example"
MEGAN_OID = "4f8e2d6a-1c3b-4a5e-9d7f-0b2c4e6a8d10"
ORIGIN = "DM6PR11MB4321 (15.20.6500.025)\r\n"


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def write(name, text, newline=""):
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline=newline) as f:
        f.write(text)


# ---------------------------------------------------------------- Unified Audit Log records

bind = {
    "CreationTime": "2023-06-16T09:01:02",
    "Id": "2f1c8a4e-7d3b-4e59-a0c6-1b9e8d7f6a51",
    "Operation": "MailItemsAccessed",
    "OrganizationId": TENANT,
    "RecordType": 50,
    "ResultStatus": "Succeeded",
    "UserKey": "10032001A2B3C4D5",
    "UserType": 0,
    "Version": 1,
    "Workload": "Exchange",
    "UserId": MEGAN,
    "AppId": GRAPH,
    "ClientAppId": EVIL_APP,
    "ClientIPAddress": "2001:db8:85a3::8a2e:370:7334",
    "ClientInfoString": "Client=REST;;",
    "ExternalAccess": False,
    "InternalLogonType": 0,
    "LogonType": 0,
    "LogonUserSid": "S-1-5-21-1825954961-3338807533-2873504967-26087451",
    "MailboxGuid": "d0c5f8ae-9ed7-4e46-bfdf-ea1460f5a31b",
    "MailboxOwnerSid": "S-1-5-21-1825954961-3338807533-2873504967-26087451",
    "MailboxOwnerUPN": MEGAN,
    "OperationProperties": [
        {"Name": "MailAccessType", "Value": "Bind"},
        {"Name": "IsThrottled", "Value": "False"},
    ],
    "OrganizationName": "contoso.onmicrosoft.com",
    "OriginatingServer": ORIGIN,
    "SessionId": "8c1f2e3d-4b5a-4c6d-9e7f-a1b2c3d4e5f6",
    "TokenObjectId": "5e7a9c1b-3d5f-4a7c-8e9a-b1d3f5a7c9e2",
    "TokenTenantId": TENANT,
    "AppAccessContext": {
        "AADSessionId": "00b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
        "ClientAppId": EVIL_APP,
        "ClientAppName": "Contoso Mail Helper",
        "CorrelationId": "3a4b5c6d-7e8f-4091-a2b3-c4d5e6f7a8b9",
        "IssuedAtTime": "2023-06-16T08:55:40",
        "UniqueTokenId": "Q7rJ0fG2vU6a9kLmN3pXAA",
    },
    "Folders": [
        {
            "FolderItems": [
                {"InternetMessageId": "<DM6PR11MB43210A1B2C3D4E5F6@DM6PR11MB4321.namprd11.prod.outlook.com>"},
                {"InternetMessageId": "<a1b2c3d4-e5f6-4718-9a0b-c1d2e3f4a5b6@contoso.example>"},
            ],
            "Id": "LgAAAAB+7ILpFNx8TrktaK8VYWerAQBe9CuwLc2fTK7W46L1SAp9AAAA2lHHAAAB",
            "Path": "\\Inbox",
        },
        {
            "FolderItems": [
                {"InternetMessageId": "<CH0PR11MB5678AB12CD34EF56@CH0PR11MB5678.namprd11.prod.outlook.com>"}
            ],
            "Id": "LgAAAAB+7ILpFNx8TrktaK8VYWerAQBe9CuwLc2fTK7W46L1SAp9AAAA2lHIAAAB",
            "Path": "\\Inbox\\Finance",
        },
    ],
    "OperationCount": 3,
}

sync = {
    "CreationTime": "2023-06-16T09:05:11",
    "Id": "6b2d4f60-8a1c-4e3b-9d5f-7a9c1e3b5d70",
    "Operation": "MailItemsAccessed",
    "OrganizationId": TENANT,
    "RecordType": 50,
    "ResultStatus": "Succeeded",
    "UserKey": "10032001A2B3C4D5",
    "UserType": 0,
    "Version": 1,
    "Workload": "Exchange",
    "UserId": MEGAN,
    "AppId": EXO,
    "ClientIPAddress": "::ffff:198.51.100.23",
    "ClientInfoString": "Client=MSExchangeRPC",
    "ExternalAccess": False,
    "InternalLogonType": 0,
    "LogonType": 0,
    "MailboxGuid": "d0c5f8ae-9ed7-4e46-bfdf-ea1460f5a31b",
    "MailboxOwnerUPN": MEGAN,
    "OperationProperties": [
        {"Name": "MailAccessType", "Value": "Sync"},
        {"Name": "IsThrottled", "Value": "True"},
    ],
    "OrganizationName": "contoso.onmicrosoft.com",
    "OriginatingServer": ORIGIN,
    "SessionId": "0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f70",
    "AppAccessContext": {
        "AADSessionId": "11c2d3e4-f5a6-4b7c-9d8e-0f1a2b3c4d5e",
        "ClientAppId": OFFICE,
        "IssuedAtTime": "2023-06-16T08:30:02",
        "UniqueTokenId": "xYz0AbCdEfGhIjKlMnOpQA",
    },
    "Folders": [{"Id": "LgAAAAB+7ILpFNx8TrktaK8VYWerAQBe9CuwLc2fTK7W46L1SAp9AAAA2lHJAAAB", "Path": "\\Sent Items"}],
    "OperationCount": 1,
}

inbox_rule = {
    "AppAccessContext": {"IssuedAtTime": "2023-06-16T09:10:03", "UniqueTokenId": "3kVZRE8tFkinHtPA7_EFAA"},
    "CreationTime": "2023-06-16T09:12:44",
    "Id": "85d29e27-be28-4f2c-96c8-08dbbe33c473",
    "Operation": "New-InboxRule",
    "OrganizationId": TENANT,
    "RecordType": 1,
    "ResultStatus": "True",
    "UserKey": "10032001A2B3C4D5",
    "UserType": 0,
    "Version": 1,
    "Workload": "Exchange",
    "ClientIP": "203.0.113.45:51234",
    "ObjectId": "NAMPR11A001.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/Megan Bowen\\.",
    "UserId": MEGAN,
    "AppId": EXO,
    "ClientAppId": "",
    "ExternalAccess": False,
    "OrganizationName": "contoso.onmicrosoft.com",
    "OriginatingServer": "DM6PR11MB4321 (15.20.6500.025)",
    "Parameters": [
        {"Name": "AlwaysDeleteOutlookRulesBlob", "Value": "False"},
        {"Name": "Force", "Value": "False"},
        {"Name": "MoveToFolder", "Value": "RSS Feeds"},
        {"Name": "Name", "Value": "."},
        {"Name": "SubjectOrBodyContainsWords", "Value": "invoice;payment;wire transfer"},
        {"Name": "StopProcessingRules", "Value": "True"},
    ],
    "SessionId": "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b",
}

set_mailbox = {
    "CreationTime": "2023-06-16T09:20:31",
    "Id": "c4e6a8b0-2d4f-4a6c-8e0a-b2d4f6a8c0e2",
    "Operation": "Set-Mailbox",
    "OrganizationId": TENANT,
    "RecordType": 1,
    "ResultStatus": "True",
    "UserKey": "10032001F0E1D2C3",
    "UserType": 2,
    "Version": 1,
    "Workload": "Exchange",
    "ClientIP": "2001:db8:4::1c",
    "ObjectId": "Megan Bowen",
    "UserId": ADMIN,
    "AppId": "fb78d390-0c51-40cd-8e17-fdbfab77341b",
    "ClientAppId": "",
    "ExternalAccess": False,
    "OrganizationName": "contoso.onmicrosoft.com",
    "OriginatingServer": ORIGIN,
    "Parameters": [
        {"Name": "Identity", "Value": MEGAN},
        {"Name": "ForwardingSmtpAddress", "Value": "smtp:megan.b@mailbox-relay.example"},
        {"Name": "DeliverToMailboxAndForward", "Value": "True"},
    ],
    "SessionId": "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d",
}

add_permission = {
    "CreationTime": "2023-06-16T09:24:09",
    "Id": "d8f0a2c4-6e8a-4c0e-a2c4-e6a8c0e2a4c6",
    "Operation": "Add-MailboxPermission",
    "OrganizationId": TENANT,
    "RecordType": 1,
    "ResultStatus": "True",
    "UserKey": "10032001F0E1D2C3",
    "UserType": 2,
    "Version": 1,
    "Workload": "Exchange",
    "ClientIP": "[2001:db8:4::1c]:443",
    "ObjectId": "Adele Vance",
    "UserId": ADMIN,
    "ExternalAccess": False,
    "OrganizationName": "contoso.onmicrosoft.com",
    "OriginatingServer": ORIGIN,
    "Parameters": [
        {"Name": "Identity", "Value": ADELE},
        {"Name": "User", "Value": MEGAN},
        {"Name": "AccessRights", "Value": "FullAccess"},
        {"Name": "InheritanceType", "Value": "All"},
        {"Name": "AutoMapping", "Value": False},
    ],
    "SessionId": "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d",
}

consent = {
    "CreationTime": "2023-06-16T08:57:18",
    "Id": "e1a3c5e7-0b2d-4f6a-8c1e-3a5c7e9b1d3f",
    "Operation": "Consent to application.",
    "OrganizationId": TENANT,
    "RecordType": 8,
    "ResultStatus": "Success",
    "UserKey": "10032001A2B3C4D5@contoso.example",
    "UserType": 0,
    "Version": 1,
    "Workload": "AzureActiveDirectory",
    "ObjectId": "Not Available",
    "UserId": MEGAN,
    "AzureActiveDirectoryEventType": 1,
    "ExtendedProperties": [
        {"Name": "additionalDetails", "Value": "{\"User-Agent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 Edg/114.0.1823.43\",\"AppId\":\"" + EVIL_APP + "\"}"},
        {"Name": "extendedAuditEventCategory", "Value": "ServicePrincipal"},
    ],
    "ModifiedProperties": [
        {"Name": "ConsentContext.IsAdminConsent", "NewValue": "False", "OldValue": ""},
        {"Name": "ConsentContext.IsAppOnly", "NewValue": "False", "OldValue": ""},
        {"Name": "ConsentContext.OnBehalfOfAll", "NewValue": "False", "OldValue": ""},
        {"Name": "ConsentAction.Permissions", "NewValue": "[] => [[Id: 7VbLzGqe, ClientId: 1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9, PrincipalId: " + MEGAN_OID + ", ResourceId: 9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d, ConsentType: Principal, Scope: Mail.Read Mail.Send offline_access User.Read]]; ", "OldValue": ""},
        {"Name": "TargetId.ServicePrincipalNames", "NewValue": EVIL_APP, "OldValue": ""},
    ],
    "Actor": [{"ID": MEGAN, "Type": 5}, {"ID": "User_" + MEGAN_OID, "Type": 2}],
    "ActorContextId": TENANT,
    "ActorIpAddress": "198.51.100.77",
    "InterSystemsId": "9c8b7a6f-5e4d-4c3b-2a1f-0e9d8c7b6a5f",
    "IntraSystemId": "b8c7d6e5-f4a3-4b2c-9d1e-0f2a3b4c5d6e",
    "SupportTicketId": "",
    "Target": [{"ID": "ServicePrincipal_1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9", "Type": 2}, {"ID": EVIL_APP, "Type": 2}],
    "TargetContextId": TENANT,
}

logged_in = {
    "CreationTime": "2023-06-16T08:55:39",
    "Id": "f2b4d6f8-1a3c-4e5a-9b7d-2f4a6c8e0b2d",
    "Operation": "UserLoggedIn",
    "OrganizationId": TENANT,
    "RecordType": 15,
    "ResultStatus": "Success",
    "UserKey": MEGAN_OID,
    "UserType": 0,
    "Version": 1,
    "Workload": "AzureActiveDirectory",
    "ClientIP": "198.51.100.77",
    "ObjectId": EXO,
    "UserId": MEGAN,
    "AzureActiveDirectoryEventType": 1,
    "ExtendedProperties": [
        {"Name": "ResultStatusDetail", "Value": "Redirect"},
        {"Name": "UserAgent", "Value": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 Edg/114.0.1823.43"},
        {"Name": "RequestType", "Value": "OAuth2:Authorize"},
    ],
    "ModifiedProperties": [],
    "Actor": [{"ID": MEGAN_OID, "Type": 0}, {"ID": MEGAN, "Type": 5}],
    "ActorContextId": TENANT,
    "ActorIpAddress": "198.51.100.77",
    "InterSystemsId": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
    "IntraSystemId": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b0100",
    "SupportTicketId": "",
    "Target": [{"ID": EXO, "Type": 0}],
    "TargetContextId": TENANT,
    "ApplicationId": EXO,
    "DeviceProperties": [{"Name": "OS", "Value": "Windows 10"}, {"Name": "BrowserType", "Value": "Edge"}, {"Name": "SessionId", "Value": "00b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"}],
    "ErrorNumber": "0",
}

send = {
    "CreationTime": "2023-06-16T09:31:57",
    "Id": "a9c1e3a5-7b9d-4f1b-83d5-f7b9d1f3b5d7",
    "Operation": "Send",
    "OrganizationId": TENANT,
    "RecordType": 2,
    "ResultStatus": "Succeeded",
    "UserKey": "10032001A2B3C4D5",
    "UserType": 0,
    "Version": 1,
    "Workload": "Exchange",
    "ClientIP": "[2001:db8:85a3::8a2e:370:7334]:50443",
    "UserId": MEGAN,
    "AppId": GRAPH,
    "ClientAppId": EVIL_APP,
    "ClientInfoString": "Client=REST;;",
    "ExternalAccess": False,
    "InternalLogonType": 0,
    "LogonType": 0,
    "MailboxGuid": "d0c5f8ae-9ed7-4e46-bfdf-ea1460f5a31b",
    "MailboxOwnerUPN": MEGAN,
    "OrganizationName": "contoso.onmicrosoft.com",
    "OriginatingServer": ORIGIN,
    "SessionId": "8c1f2e3d-4b5a-4c6d-9e7f-a1b2c3d4e5f6",
    "Item": {
        "Id": "RgAAAAB+7ILpFNx8TrktaK8VYWerBwBe9CuwLc2fTK7W46L1SAp9AAAAAAEPAABe9CuwLc2fTK7W46L1SAp9AAAA2lHKAAAA",
        "InternetMessageId": "<DM6PR11MB4321FFEE0011@DM6PR11MB4321.namprd11.prod.outlook.com>",
        "ParentFolder": {"Id": "LgAAAAB+7ILpFNx8TrktaK8VYWerAQBe9CuwLc2fTK7W46L1SAp9AAAAAAEPAAAB", "Path": "\\Sent Items"},
        "SizeInBytes": 48213,
        "Subject": "RE: Updated wire instructions",
    },
}

# The same MailItemsAccessed as some exports write it: names instead of numbers, a zone and seven
# fractional digits.
named = {
    "CreationTime": "2023-06-16T10:00:00.1234567Z",
    "Id": "b0d2f4a6-c8e0-4a2c-8e4a-6c8e0a2c4e6a",
    "Operation": "MailItemsAccessed",
    "OrganizationId": TENANT,
    "RecordType": "ExchangeItemAggregated",
    "ResultStatus": "Succeeded",
    "UserType": "Regular",
    "Version": 1,
    "Workload": "Exchange",
    "UserId": ADELE,
    "AppId": EXO,
    "ClientAppId": "00000002-0000-0ff1-ce00-000000000000",
    "ClientIPAddress": "[2001:db8:1:2::15]:9443",
    "ClientInfoString": "Client=OWA;Action=ViaProxy",
    "LogonType": "Delegate",
    "MailboxGuid": "e1d6a9bf-0fe8-4f57-c0e0-fb2571b6a42c",
    "MailboxOwnerUPN": ADELE,
    "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}, {"Name": "IsThrottled", "Value": "False"}],
    "Folders": [{"FolderItems": [{"InternetMessageId": "<3c4d5e6f@contoso.example>"}], "Id": "LgAAAAC", "Path": "\\Inbox"}],
    "OperationCount": 1,
}

UAL = [bind, sync, inbox_rule, set_mailbox, add_permission, consent, logged_in, send, named]

# Management Activity API content blob: a JSON array of records, as the API returns it.
write("ual-management-api.json", compact([bind, sync, inbox_rule, consent]))
# NDJSON: one record per line.
write("ual.ndjson", "".join(compact(r) + "\n" for r in [set_mailbox, add_permission, logged_in, send, named]))


def csv_text(header, rows, type_line=None, bom=False):
    buf = io.StringIO()
    if type_line:
        buf.write(type_line + "\r\n")
    w = csv.writer(buf, quoting=csv.QUOTE_ALL if type_line else csv.QUOTE_MINIMAL, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    return ("\ufeff" if bom else "") + buf.getvalue()


def us_date(iso):
    # Purview writes CreationDate in the exporting user's locale; mailtrail ignores it.
    d, t = iso[:19].split("T")
    y, m, dd = d.split("-")
    h, mi, s = t.split(":")
    h = int(h)
    return f"{int(m)}/{int(dd)}/{y} {h % 12 or 12}:{mi}:{s} {'AM' if h < 12 else 'PM'}"


# Purview audit search export, current columns.
write(
    "purview-current.csv",
    csv_text(
        ["RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData", "AssociatedAdminUnits", "AssociatedAdminUnitsNames"],
        [[r["Id"], r["CreationTime"][:19] + ".0000000Z", "ExchangeItemAggregated" if r["RecordType"] == 50 else "ExchangeAdmin", r["Operation"], r["UserId"], compact(r), "", ""] for r in [bind, inbox_rule, set_mailbox]],
        bom=True,
    ),
)
# Purview audit search export, classic columns.
write(
    "purview-classic.csv",
    csv_text(["CreationDate", "UserIds", "Operations", "AuditData"], [[us_date(r["CreationTime"]), r["UserId"], r["Operation"], compact(r)] for r in [sync, add_permission]]),
)
# Search-UnifiedAuditLog | Export-Csv (Windows PowerShell 5.1, without -NoTypeInformation).
write(
    "search-unifiedauditlog.csv",
    csv_text(
        ["RunspaceId", "RecordType", "CreationDate", "UserIds", "Operations", "AuditData", "ResultIndex", "ResultCount", "Identity", "IsValid", "ObjectState"],
        [["6e0c5a3b-1d2f-4e8a-9b7c-5d3e1f0a2b4c", "AzureActiveDirectory" if r["RecordType"] == 8 else "AzureActiveDirectoryStsLogon", us_date(r["CreationTime"]), r["UserId"], r["Operation"], compact(r), str(i + 1), "2", r["Id"], "True", "Unchanged"] for i, r in enumerate([consent, logged_in])],
        type_line="#TYPE Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.AuditRecord",
    ),
)

# ---------------------------------------------------------------- Sentinel OfficeActivity

def office_activity(r, **extra):
    row = {
        "TenantId": "5f6e7d8c-9b0a-4c1d-8e2f-3a4b5c6d7e8f",
        "RecordType": {50: "ExchangeItemAggregated", 1: "ExchangeAdmin"}.get(r["RecordType"], str(r["RecordType"])),
        "TimeGenerated": r["CreationTime"] + "Z",
        "Operation": r["Operation"],
        "OrganizationId": r["OrganizationId"],
        "UserType": {0: "Regular", 2: "Admin"}[r["UserType"]],
        "UserKey": r.get("UserKey", ""),
        "OfficeWorkload": r["Workload"],
        "ResultStatus": r["ResultStatus"],
        "OfficeObjectId": r.get("ObjectId", ""),
        "UserId": r["UserId"],
        "ClientIP": r.get("ClientIP", ""),
        "ExternalAccess": "False",
        "OriginatingServer": r.get("OriginatingServer", ""),
        "OrganizationName": r.get("OrganizationName", ""),
        "Logon_Type": "Owner",
        "MailboxGuid": r.get("MailboxGuid", ""),
        "MailboxOwnerUPN": r.get("MailboxOwnerUPN", ""),
        "Client_IPAddress": r.get("ClientIPAddress", ""),
        "ClientInfoString": r.get("ClientInfoString", ""),
        "SourceSystem": "OfficeActivityManager",
        "OfficeId": r["Id"],
        "SourceRecordId": r["Id"],
        "OfficeTenantId": r["OrganizationId"],
        "AppId": r.get("AppId", ""),
        "ClientAppId": r.get("ClientAppId", ""),
        "SessionId": r.get("SessionId", ""),
        "Type": "OfficeActivity",
    }
    row.update(extra)
    return row


sentinel_office = [
    office_activity(
        bind,
        Folders=compact(bind["Folders"]),
        OperationProperties=compact(bind["OperationProperties"]),
        AppAccessContext=compact(bind["AppAccessContext"]),
        TokenTenantId=TENANT,
        OperationCount=3,
    ),
    office_activity(inbox_rule, Parameters=compact(inbox_rule["Parameters"]), Logon_Type=""),
]
# Log Analytics query results exported as JSON: an array of rows.
write("sentinel-officeactivity.json", json.dumps(sentinel_office, indent=2, ensure_ascii=False) + "\n", newline="\n")

# ---------------------------------------------------------------- Defender CloudAppEvents

ps_bind = dict(bind)
ps_bind["CreationTime"] = "2023-06-16T09:01:02.0000000Z"
ps_bind["OperationProperties"] = ["@{Value=Bind; Name=MailAccessType}", "@{Value=False; Name=IsThrottled}"]
ps_bind["Folders"] = ["@{Id=" + f["Id"] + "; Path=" + f["Path"] + "; FolderItems=System.Object[]}" for f in bind["Folders"]]
del ps_bind["AppAccessContext"]

defender = [
    {
        "Timestamp": "2023-06-16T09:01:02Z",
        "ActionType": "MailItemsAccessed",
        "Application": "Microsoft Exchange Online",
        "ApplicationId": 20893,
        "AccountObjectId": MEGAN_OID,
        "AccountDisplayName": "Megan Bowen",
        "IsAdminOperation": False,
        "DeviceType": "Other",
        "OSPlatform": "",
        "IPAddress": "2001:db8:85a3::8a2e:370:7334",
        "IsAnonymousProxy": False,
        "CountryCode": "NL",
        "City": "amsterdam",
        "ISP": "example hosting b.v.",
        "UserAgent": "Client=REST;;",
        "ActivityType": "Run",
        "ActivityObjects": [{"Type": "Task", "Role": "Target object", "Name": "MailItemsAccessed"}],
        "ObjectName": "MailItemsAccessed",
        "ObjectType": "Task",
        "ObjectId": "",
        "ReportId": "106830890_20893_" + bind["Id"],
        "AccountId": MEGAN_OID,
        "AccountType": "Regular",
        "IsExternalUser": False,
        "IsImpersonated": False,
        "IPTags": None,
        "IPCategory": "Hosting",
        "UserAgentTags": None,
        "RawEventData": ps_bind,
        "AdditionalFields": {},
        "OAuthAppId": EVIL_APP,
    },
    {
        "Timestamp": "2023-06-16T09:12:44Z",
        "ActionType": "New-InboxRule",
        "Application": "Microsoft Exchange Online",
        "ApplicationId": 20893,
        "AccountObjectId": MEGAN_OID,
        "AccountDisplayName": "Megan Bowen",
        "IPAddress": "203.0.113.45",
        "CountryCode": "US",
        "ActivityType": "Create",
        "ReportId": "106830890_20893_" + inbox_rule["Id"],
        # An advanced hunting CSV export turns dynamic columns into JSON text.
        "RawEventData": compact(inbox_rule),
        "OAuthAppId": "",
    },
]
write("defender-cloudappevents.ndjson", "".join(compact(r) + "\n" for r in defender))

# ---------------------------------------------------------------- Entra ID sign-ins

interactive = {
    "id": "66ea54eb-6301-4ee5-be62-ff5a759b0100",
    "createdDateTime": "2023-06-16T08:55:38Z",
    "userDisplayName": "Megan Bowen",
    "userPrincipalName": MEGAN,
    "userId": MEGAN_OID,
    "appId": EXO,
    "appDisplayName": "Office 365 Exchange Online",
    "ipAddress": "198.51.100.77",
    "clientAppUsed": "Browser",
    "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 Edg/114.0.1823.43",
    "correlationId": "3a4b5c6d-7e8f-4091-a2b3-c4d5e6f7a8b9",
    "conditionalAccessStatus": "success",
    "isInteractive": True,
    "riskLevelDuringSignIn": "none",
    "resourceDisplayName": "Office 365 Exchange Online",
    "resourceId": EXO,
    "resourceTenantId": TENANT,
    "homeTenantId": TENANT,
    "signInEventTypes": ["interactiveUser"],
    "tokenIssuerType": "AzureAD",
    "tokenIssuerName": "",
    "incomingTokenType": "none",
    "uniqueTokenIdentifier": "Q7rJ0fG2vU6a9kLmN3pXAA",
    "sessionId": "00b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
    "autonomousSystemNumber": 64496,
    "authenticationRequirement": "multiFactorAuthentication",
    "crossTenantAccessType": "none",
    "status": {"errorCode": 0, "failureReason": "Other.", "additionalDetails": "MFA requirement satisfied by claim in the token"},
    "deviceDetail": {"deviceId": "", "displayName": "", "operatingSystem": "Windows10", "browser": "Edge 114.0.1823", "isCompliant": False, "isManaged": False, "trustType": ""},
    "location": {"city": "Amsterdam", "state": "Noord-Holland", "countryOrRegion": "NL", "geoCoordinates": {"altitude": None, "latitude": 52.37403, "longitude": 4.88969}},
    "appliedConditionalAccessPolicies": [],
}
failure = {
    "id": "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c0200",
    "createdDateTime": "2023-06-16T08:41:07Z",
    "userDisplayName": "Adele Vance",
    "userPrincipalName": ADELE,
    "userId": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
    "appId": OFFICE,
    "appDisplayName": "Microsoft Office",
    "ipAddress": "2001:db8:ffff::42",
    "clientAppUsed": "Mobile Apps and Desktop clients",
    "correlationId": "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
    "conditionalAccessStatus": "notApplied",
    "isInteractive": True,
    "riskLevelDuringSignIn": "medium",
    "resourceDisplayName": "Microsoft Graph",
    "resourceId": GRAPH,
    "signInEventTypes": ["interactiveUser"],
    "tokenIssuerType": "AzureAD",
    "incomingTokenType": "none",
    "uniqueTokenIdentifier": "AbCdEfGhIjKlMnOpQrStAA",
    "autonomousSystemNumber": 64511,
    "status": {"errorCode": 50126, "failureReason": "Error validating credentials due to invalid username or password.", "additionalDetails": None},
    "location": {"city": "Frankfurt am Main", "state": "Hessen", "countryOrRegion": "DE"},
}
non_interactive = {
    "id": "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e0300",
    "createdDateTime": "2023-06-16T09:00:59Z",
    "userDisplayName": "Megan Bowen",
    "userPrincipalName": MEGAN,
    "userId": MEGAN_OID,
    "appId": EVIL_APP,
    "appDisplayName": "Contoso Mail Helper",
    "ipAddress": "2001:db8:85a3::8a2e:370:7334",
    "clientAppUsed": "Mobile Apps and Desktop clients",
    "isInteractive": False,
    "resourceDisplayName": "Microsoft Graph",
    "resourceId": GRAPH,
    "signInEventTypes": ["nonInteractiveUser"],
    "tokenIssuerType": "AzureAD",
    "incomingTokenType": "refreshToken",
    "uniqueTokenIdentifier": "Q7rJ0fG2vU6a9kLmN3pXAA",
    "sessionId": "00b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
    "autonomousSystemNumber": 64500,
    "status": {"errorCode": 0, "failureReason": "Other."},
    "location": {"city": "Amsterdam", "state": "Noord-Holland", "countryOrRegion": "NL"},
}
graph_page = {
    "@odata.context": "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns",
    "value": [interactive, failure, non_interactive],
    "@odata.nextLink": "https://graph.microsoft.com/beta/auditLogs/signIns?$top=3&$skiptoken=9a8b7c6d5e4f",
}
# A Graph page as `Invoke-MgGraphRequest | ConvertTo-Json` or `jq .` leaves it: pretty-printed.
write("graph-signins.json", json.dumps(graph_page, indent=2, ensure_ascii=False) + "\n", newline="\n")


def azure_monitor(category, props, time, operation="Sign-in activity"):
    return {
        "time": time,
        "resourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
        "operationName": operation,
        "operationVersion": "1.0",
        "category": category,
        "tenantId": TENANT,
        "resultType": str(props.get("status", {}).get("errorCode", 0)) if "status" in props else "Success",
        "resultSignature": "None",
        "resultDescription": props.get("status", {}).get("failureReason", "") if "status" in props else "",
        "durationMs": 0,
        "callerIpAddress": props.get("ipAddress", ""),
        "correlationId": props.get("correlationId", "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"),
        "identity": props.get("userDisplayName", props.get("servicePrincipalName", "")),
        "Level": 4,
        "location": "NL",
        "properties": props,
    }


sp_signin = {
    "id": "e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f0400",
    "createdDateTime": "2023-06-16T09:40:12.4471532+00:00",
    "appId": "a7b8c9d0-e1f2-4a3b-8c4d-5e6f7a8b9c0d",
    "appDisplayName": "Contoso Archiver",
    "ipAddress": "203.0.113.200",
    "correlationId": "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5c",
    "resourceDisplayName": "Office 365 Exchange Online",
    "resourceId": EXO,
    "servicePrincipalId": "b8c9d0e1-f2a3-4b4c-9d5e-6f7a8b9c0d1e",
    "servicePrincipalName": "Contoso Archiver",
    "uniqueTokenIdentifier": "SpTokenId0123456789abAA",
    "status": {"errorCode": 0},
    "location": {"city": "Dublin", "state": "Dublin", "countryOrRegion": "IE"},
}
dir_add_sp = {
    "id": "Directory_0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0_Q1W2E_12345678",
    "category": "ApplicationManagement",
    "correlationId": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    "result": "success",
    "resultReason": "",
    "activityDisplayName": "Add service principal",
    "activityDateTime": "2023-06-16T08:57:17.8211003Z",
    "loggedByService": "Core Directory",
    "operationType": "Add",
    "initiatedBy": {"user": {"id": MEGAN_OID, "displayName": None, "userPrincipalName": MEGAN, "ipAddress": "198.51.100.77", "userType": None, "homeTenantId": None, "homeTenantName": None}, "app": None},
    "targetResources": [{"id": "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9", "displayName": "Contoso Mail Helper", "type": "ServicePrincipal", "modifiedProperties": [{"displayName": "AccountEnabled", "oldValue": "[]", "newValue": "[true]"}, {"displayName": "AppPrincipalId", "oldValue": "[]", "newValue": "[\"" + EVIL_APP + "\"]"}], "administrativeUnits": []}],
    "additionalDetails": [{"key": "User-Agent", "value": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/114.0.1823.43"}, {"key": "AppId", "value": EVIL_APP}],
}
# Azure Monitor diagnostic settings to a storage account: one JSON record per line (PT1H.json).
write(
    "azure-monitor.ndjson",
    "".join(
        compact(r) + "\n"
        for r in [
            azure_monitor("SignInLogs", {k: v for k, v in interactive.items() if k != "signInEventTypes"}, "2023-06-16T08:55:38.9310327Z"),
            azure_monitor("NonInteractiveUserSignInLogs", {k: v for k, v in non_interactive.items() if k not in ("signInEventTypes", "isInteractive")}, "2023-06-16T09:00:59.1234567Z"),
            azure_monitor("ServicePrincipalSignInLogs", sp_signin, "2023-06-16T09:40:12.4471532Z"),
            azure_monitor("AuditLogs", dir_add_sp, "2023-06-16T08:57:17.8211003Z", "Add service principal"),
        ]
    ),
)
# Azure Monitor to Event Hubs: each message is a `records` envelope.
write(
    "azure-monitor-records.json",
    compact({"records": [azure_monitor("ManagedIdentitySignInLogs", {**sp_signin, "id": "f6a7b8c9-d0e1-4f2a-9b3c-4d5e6f7a0500", "appDisplayName": "vm-backup-01", "servicePrincipalName": "vm-backup-01"}, "2023-06-16T11:02:03.0000000Z")]}) + "\n",
)


def sentinel_signin(table, p, **extra):
    row = {
        "TenantId": "5f6e7d8c-9b0a-4c1d-8e2f-3a4b5c6d7e8f",
        "SourceSystem": "Azure AD",
        "TimeGenerated": p["createdDateTime"],
        "ResourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
        "OperationName": "Sign-in activity",
        "OperationVersion": "1.0",
        "Category": {"SigninLogs": "SignInLogs", "AADNonInteractiveUserSignInLogs": "NonInteractiveUserSignInLogs", "AADServicePrincipalSignInLogs": "ServicePrincipalSignInLogs"}[table],
        "ResultType": str(p.get("status", {}).get("errorCode", 0)),
        "ResultSignature": "None",
        "ResultDescription": p.get("status", {}).get("failureReason", ""),
        "DurationMs": 0,
        "CorrelationId": p.get("correlationId", ""),
        "Level": "4",
        "Location": p.get("location", {}).get("countryOrRegion", ""),
        "AppDisplayName": p.get("appDisplayName", ""),
        "AppId": p["appId"],
        "AuthenticationRequirement": p.get("authenticationRequirement", "singleFactorAuthentication"),
        "ClientAppUsed": p.get("clientAppUsed", ""),
        "ConditionalAccessStatus": p.get("conditionalAccessStatus", "notApplied"),
        "CreatedDateTime": p["createdDateTime"],
        "DeviceDetail": compact(p.get("deviceDetail", {"deviceId": "", "operatingSystem": "Windows10", "browser": "Edge 114.0.1823"})),
        "IsInteractive": p.get("isInteractive", False),
        "Id": p["id"],
        "IPAddress": p.get("ipAddress", ""),
        "LocationDetails": compact(p.get("location", {})),
        "ResourceDisplayName": p.get("resourceDisplayName", ""),
        "ResourceIdentity": p.get("resourceId", ""),
        "Status": compact(p.get("status", {})),
        "TokenIssuerType": p.get("tokenIssuerType", "AzureAD"),
        "UserAgent": p.get("userAgent", ""),
        "UserDisplayName": p.get("userDisplayName", ""),
        "UserId": p.get("userId", ""),
        "UserPrincipalName": p.get("userPrincipalName", ""),
        "AutonomousSystemNumber": str(p.get("autonomousSystemNumber", "")),
        "IncomingTokenType": p.get("incomingTokenType", "none"),
        "UniqueTokenIdentifier": p.get("uniqueTokenIdentifier", ""),
        "SessionId": p.get("sessionId", ""),
        "HomeTenantId": TENANT,
        "ResourceTenantId": TENANT,
        "AADTenantId": TENANT,
        "Type": table,
    }
    row.update(extra)
    return row


sentinel_signins = [
    sentinel_signin("SigninLogs", failure),
    sentinel_signin("AADNonInteractiveUserSignInLogs", non_interactive),
    sentinel_signin("AADServicePrincipalSignInLogs", sp_signin, ServicePrincipalId=sp_signin["servicePrincipalId"], ServicePrincipalName=sp_signin["servicePrincipalName"], UserPrincipalName="", UserDisplayName=""),
]
write("sentinel-signinlogs.json", compact(sentinel_signins) + "\n")

# ---------------------------------------------------------------- Entra ID directory audits

dir_consent = {
    "id": "Directory_9c8b7a6f-5e4d-4c3b-2a1f-0e9d8c7b6a5f_ZZ9Y8_23456789",
    "category": "ApplicationManagement",
    "correlationId": "9c8b7a6f-5e4d-4c3b-2a1f-0e9d8c7b6a5f",
    "result": "success",
    "resultReason": "",
    "activityDisplayName": "Consent to application",
    "activityDateTime": "2023-06-16T08:57:18.1046117Z",
    "loggedByService": "Core Directory",
    "operationType": "Assign",
    "initiatedBy": {"app": None, "user": {"id": MEGAN_OID, "displayName": None, "userPrincipalName": MEGAN, "ipAddress": "198.51.100.77", "userType": None, "homeTenantId": None, "homeTenantName": None}},
    "targetResources": [{"id": "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9", "displayName": "Contoso Mail Helper", "type": "ServicePrincipal", "userPrincipalName": None, "groupType": None, "modifiedProperties": [
        {"displayName": "ConsentContext.IsAdminConsent", "oldValue": None, "newValue": "\"False\""},
        {"displayName": "ConsentContext.IsAppOnly", "oldValue": None, "newValue": "\"False\""},
        {"displayName": "ConsentAction.Permissions", "oldValue": None, "newValue": "\"[] => [[Id: 7VbLzGqe, ClientId: 1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9, PrincipalId: " + MEGAN_OID + ", ResourceId: 9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d, ConsentType: Principal, Scope: Mail.Read Mail.Send offline_access User.Read]]; \""},
        {"displayName": "TargetId.ServicePrincipalNames", "oldValue": None, "newValue": "\"" + EVIL_APP + "\""},
    ]}],
    "additionalDetails": [{"key": "User-Agent", "value": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/114.0.1823.43"}],
}
dir_grant = {
    "id": "Directory_9c8b7a6f-5e4d-4c3b-2a1f-0e9d8c7b6a5f_ZZ9Y8_23456790",
    "category": "ApplicationManagement",
    "correlationId": "9c8b7a6f-5e4d-4c3b-2a1f-0e9d8c7b6a5f",
    "result": "success",
    "resultReason": "",
    "activityDisplayName": "Add delegated permission grant",
    "activityDateTime": "2023-06-16T08:57:18.0734211Z",
    "loggedByService": "Core Directory",
    "operationType": "Assign",
    "initiatedBy": {"app": {"appId": None, "displayName": "Microsoft Graph", "servicePrincipalId": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", "servicePrincipalName": None}, "user": None},
    "targetResources": [{"id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", "displayName": "Microsoft Graph", "type": "ServicePrincipal", "modifiedProperties": [{"displayName": "DelegatedPermissionGrant.Scope", "oldValue": None, "newValue": "\"Mail.Read Mail.Send offline_access User.Read\""}]}],
    "additionalDetails": [],
}
dir_role = {
    "id": "Directory_4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a_ABCDE_34567890",
    "category": "RoleManagement",
    "correlationId": "4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a",
    "result": "success",
    "activityDisplayName": "Add member to role",
    "activityDateTime": "2023-06-16T10:15:00Z",
    "loggedByService": "Core Directory",
    "operationType": "Assign",
    "initiatedBy": {"user": {"id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "userPrincipalName": ADMIN, "ipAddress": "2001:db8:4::1c"}},
    "targetResources": [{"id": MEGAN_OID, "displayName": None, "type": "User", "userPrincipalName": MEGAN, "modifiedProperties": [{"displayName": "Role.DisplayName", "oldValue": None, "newValue": "\"Exchange Administrator\""}]}],
    "additionalDetails": [],
}
write(
    "graph-directoryaudits.json",
    compact({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits", "value": [dir_consent, dir_grant, dir_role]}) + "\n",
)


def sentinel_audit(d, **extra):
    row = {
        "TenantId": "5f6e7d8c-9b0a-4c1d-8e2f-3a4b5c6d7e8f",
        "SourceSystem": "Azure AD",
        "TimeGenerated": d["activityDateTime"],
        "ResourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
        "OperationName": d["activityDisplayName"],
        "OperationVersion": "1.0",
        "Category": d["category"],
        "ResultSignature": "None",
        "CorrelationId": d["correlationId"],
        "Resource": "Microsoft.aadiam",
        "ResourceGroup": "Microsoft.aadiam",
        "Level": "4",
        "AdditionalDetails": compact(d.get("additionalDetails", [])),
        "Id": d["id"],
        "InitiatedBy": compact(d["initiatedBy"]),
        "LoggedByService": d["loggedByService"],
        "Result": d["result"],
        "ResultReason": d.get("resultReason", ""),
        "TargetResources": compact(d["targetResources"]),
        "AADTenantId": TENANT,
        "ActivityDisplayName": d["activityDisplayName"],
        "ActivityDateTime": d["activityDateTime"],
        "AADOperationType": d["operationType"],
        "Type": "AuditLogs",
    }
    row.update(extra)
    return row


write("sentinel-auditlogs.ndjson", "".join(compact(sentinel_audit(d)) + "\n" for d in [dir_consent, dir_role]))

# One file, several schemas: what a collector that appends everything to one NDJSON file writes.
write("mixed.ndjson", "".join(compact(r) + "\n" for r in [logged_in, interactive, dir_consent, bind]))
