//! DCE-RPC interface UUIDs and operation numbers to names: the table the
//! DCE-RPC analyzer reads (names as Zeek's `DCE_RPC::operations` spells
//! them, without the `R`/`Netr`-less variants other tools use).
//!
//! Interfaces are keyed by their UUID in text (lower case). An interface
//! not listed keeps its UUID as its name; an operation not listed is
//! written `opnum_N`.

/// One known interface: its UUID, its short name and its operations by opnum.
struct Interface {
    uuid: &'static str,
    name: &'static str,
    ops: &'static [(u16, &'static str)],
}

const SVCCTL: &[(u16, &str)] = &[
    (0, "CloseServiceHandle"),
    (1, "ControlService"),
    (2, "DeleteService"),
    (3, "LockServiceDatabase"),
    (4, "QueryServiceObjectSecurity"),
    (5, "SetServiceObjectSecurity"),
    (6, "QueryServiceStatus"),
    (7, "SetServiceStatus"),
    (8, "UnlockServiceDatabase"),
    (9, "NotifyBootConfigStatus"),
    (11, "ChangeServiceConfigW"),
    (12, "CreateServiceW"),
    (13, "EnumDependentServicesW"),
    (14, "EnumServicesStatusW"),
    (15, "OpenSCManagerW"),
    (16, "OpenServiceW"),
    (17, "QueryServiceConfigW"),
    (18, "QueryServiceLockStatusW"),
    (19, "StartServiceW"),
    (20, "GetServiceDisplayNameW"),
    (21, "GetServiceKeyNameW"),
    (23, "ChangeServiceConfigA"),
    (24, "CreateServiceA"),
    (25, "EnumDependentServicesA"),
    (26, "EnumServicesStatusA"),
    (27, "OpenSCManagerA"),
    (28, "OpenServiceA"),
    (29, "QueryServiceConfigA"),
    (30, "QueryServiceLockStatusA"),
    (31, "StartServiceA"),
    (32, "GetServiceDisplayNameA"),
    (33, "GetServiceKeyNameA"),
    (36, "ChangeServiceConfig2A"),
    (37, "ChangeServiceConfig2W"),
    (38, "QueryServiceConfig2A"),
    (39, "QueryServiceConfig2W"),
    (40, "QueryServiceStatusEx"),
    (41, "EnumServicesStatusExA"),
    (42, "EnumServicesStatusExW"),
    (44, "CreateServiceWOW64A"),
    (45, "CreateServiceWOW64W"),
    (47, "NotifyServiceStatusChange"),
    (48, "GetNotifyResults"),
    (49, "CloseNotifyHandle"),
    (50, "ControlServiceExA"),
    (51, "ControlServiceExW"),
    (55, "QueryServiceConfigEx"),
    (60, "CreateWowService"),
    (64, "OpenSCManager2"),
];

const ATSVC: &[(u16, &str)] = &[
    (0, "NetrJobAdd"),
    (1, "NetrJobDel"),
    (2, "NetrJobEnum"),
    (3, "NetrJobGetInfo"),
];

const TASK_SCHEDULER: &[(u16, &str)] = &[
    (0, "SchRpcHighestVersion"),
    (1, "SchRpcRegisterTask"),
    (2, "SchRpcRetrieveTask"),
    (3, "SchRpcCreateFolder"),
    (4, "SchRpcSetSecurity"),
    (5, "SchRpcGetSecurity"),
    (6, "SchRpcEnumFolders"),
    (7, "SchRpcEnumTasks"),
    (8, "SchRpcEnumInstances"),
    (9, "SchRpcGetInstanceInfo"),
    (10, "SchRpcStopInstance"),
    (11, "SchRpcStop"),
    (12, "SchRpcRun"),
    (13, "SchRpcDelete"),
    (14, "SchRpcRename"),
    (15, "SchRpcScheduledRuntimes"),
    (16, "SchRpcGetLastRunInfo"),
    (17, "SchRpcGetTaskInfo"),
    (18, "SchRpcGetNumberOfMissedRuns"),
    (19, "SchRpcEnableTask"),
];

/// The three IUnknown methods every DCOM interface starts with.
macro_rules! dcom {
    ($($n:literal => $name:literal),* $(,)?) => {
        &[(0, "QueryInterface"), (1, "AddRef"), (2, "Release"), $(($n, $name)),*]
    };
}

const WBEM_LOGIN: &[(u16, &str)] = dcom![
    3 => "EstablishPosition",
    4 => "RequestChallenge",
    5 => "WBEMLogin",
    6 => "NTLMLogin",
];

const WBEM_SERVICES: &[(u16, &str)] = dcom![
    3 => "OpenNamespace",
    4 => "CancelAsyncCall",
    5 => "QueryObjectSink",
    6 => "GetObject",
    7 => "GetObjectAsync",
    8 => "PutClass",
    9 => "PutClassAsync",
    10 => "DeleteClass",
    11 => "DeleteClassAsync",
    12 => "CreateClassEnum",
    13 => "CreateClassEnumAsync",
    14 => "PutInstance",
    15 => "PutInstanceAsync",
    16 => "DeleteInstance",
    17 => "DeleteInstanceAsync",
    18 => "CreateInstanceEnum",
    19 => "CreateInstanceEnumAsync",
    20 => "ExecQuery",
    21 => "ExecQueryAsync",
    22 => "ExecNotificationQuery",
    23 => "ExecNotificationQueryAsync",
    24 => "ExecMethod",
    25 => "ExecMethodAsync",
];

const REMOTE_SCM_ACTIVATOR: &[(u16, &str)] =
    &[(3, "RemoteGetClassObject"), (4, "RemoteCreateInstance")];

const REM_UNKNOWN: &[(u16, &str)] = dcom![
    3 => "RemQueryInterface",
    4 => "RemAddRef",
    5 => "RemRelease",
    6 => "RemQueryInterface2",
];

const OXID_RESOLVER: &[(u16, &str)] = &[
    (0, "ResolveOxid"),
    (1, "SimplePing"),
    (2, "ComplexPing"),
    (3, "ServerAlive"),
    (4, "ResolveOxid2"),
    (5, "ServerAlive2"),
];

const DRSUAPI: &[(u16, &str)] = &[
    (0, "DRSBind"),
    (1, "DRSUnbind"),
    (2, "DRSReplicaSync"),
    (3, "DRSGetNCChanges"),
    (4, "DRSUpdateRefs"),
    (5, "DRSReplicaAdd"),
    (6, "DRSReplicaDel"),
    (7, "DRSReplicaModify"),
    (8, "DRSVerifyNames"),
    (9, "DRSGetMemberships"),
    (10, "DRSInterDomainMove"),
    (11, "DRSGetNT4ChangeLog"),
    (12, "DRSCrackNames"),
    (13, "DRSWriteSPN"),
    (14, "DRSRemoveDsServer"),
    (15, "DRSRemoveDsDomain"),
    (16, "DRSDomainControllerInfo"),
    (17, "DRSAddEntry"),
    (18, "DRSExecuteKCC"),
    (19, "DRSGetReplInfo"),
    (20, "DRSAddSidHistory"),
    (21, "DRSGetMemberships2"),
    (22, "DRSReplicaVerifyObjects"),
    (23, "DRSGetObjectExistence"),
    (24, "DRSQuerySitesByCost"),
];

const SAMR: &[(u16, &str)] = &[
    (0, "SamrConnect"),
    (1, "SamrCloseHandle"),
    (2, "SamrSetSecurityObject"),
    (3, "SamrQuerySecurityObject"),
    (5, "SamrLookupDomainInSamServer"),
    (6, "SamrEnumerateDomainsInSamServer"),
    (7, "SamrOpenDomain"),
    (8, "SamrQueryInformationDomain"),
    (9, "SamrSetInformationDomain"),
    (10, "SamrCreateGroupInDomain"),
    (11, "SamrEnumerateGroupsInDomain"),
    (12, "SamrCreateUserInDomain"),
    (13, "SamrEnumerateUsersInDomain"),
    (14, "SamrCreateAliasInDomain"),
    (15, "SamrEnumerateAliasesInDomain"),
    (16, "SamrGetAliasMembership"),
    (17, "SamrLookupNamesInDomain"),
    (18, "SamrLookupIdsInDomain"),
    (19, "SamrOpenGroup"),
    (20, "SamrQueryInformationGroup"),
    (21, "SamrSetInformationGroup"),
    (22, "SamrAddMemberToGroup"),
    (23, "SamrDeleteGroup"),
    (24, "SamrRemoveMemberFromGroup"),
    (25, "SamrGetMembersInGroup"),
    (26, "SamrSetMemberAttributesOfGroup"),
    (27, "SamrOpenAlias"),
    (28, "SamrQueryInformationAlias"),
    (29, "SamrSetInformationAlias"),
    (30, "SamrDeleteAlias"),
    (31, "SamrAddMemberToAlias"),
    (32, "SamrRemoveMemberFromAlias"),
    (33, "SamrGetMembersInAlias"),
    (34, "SamrOpenUser"),
    (35, "SamrDeleteUser"),
    (36, "SamrQueryInformationUser"),
    (37, "SamrSetInformationUser"),
    (38, "SamrChangePasswordUser"),
    (39, "SamrGetGroupsForUser"),
    (40, "SamrQueryDisplayInformation"),
    (41, "SamrGetDisplayEnumerationIndex"),
    (44, "SamrGetUserDomainPasswordInformation"),
    (45, "SamrRemoveMemberFromForeignDomain"),
    (46, "SamrQueryInformationDomain2"),
    (47, "SamrQueryInformationUser2"),
    (48, "SamrQueryDisplayInformation2"),
    (49, "SamrGetDisplayEnumerationIndex2"),
    (50, "SamrCreateUser2InDomain"),
    (51, "SamrQueryDisplayInformation3"),
    (52, "SamrAddMultipleMembersToAlias"),
    (53, "SamrRemoveMultipleMembersFromAlias"),
    (54, "SamrOemChangePasswordUser2"),
    (55, "SamrUnicodeChangePasswordUser2"),
    (56, "SamrGetDomainPasswordInformation"),
    (57, "SamrConnect2"),
    (58, "SamrSetInformationUser2"),
    (62, "SamrConnect4"),
    (64, "SamrConnect5"),
    (65, "SamrRidToSid"),
    (66, "SamrSetDSRMPassword"),
    (67, "SamrValidatePassword"),
];

const LSARPC: &[(u16, &str)] = &[
    (0, "LsarClose"),
    (2, "LsarEnumeratePrivileges"),
    (3, "LsarQuerySecurityObject"),
    (6, "LsarOpenPolicy"),
    (7, "LsarQueryInformationPolicy"),
    (8, "LsarSetInformationPolicy"),
    (10, "LsarCreateAccount"),
    (11, "LsarEnumerateAccounts"),
    (12, "LsarCreateTrustedDomain"),
    (13, "LsarEnumerateTrustedDomains"),
    (14, "LsarLookupNames"),
    (15, "LsarLookupSids"),
    (16, "LsarCreateSecret"),
    (17, "LsarOpenAccount"),
    (35, "LsarEnumerateAccountsWithUserRight"),
    (36, "LsarEnumerateAccountRights"),
    (44, "LsarOpenPolicy2"),
    (45, "LsarGetUserName"),
    (46, "LsarQueryInformationPolicy2"),
    (57, "LsarLookupSids2"),
    (58, "LsarLookupNames2"),
    (68, "LsarLookupNames3"),
    (76, "LsarLookupSids3"),
    (77, "LsarLookupNames4"),
];

const WINREG: &[(u16, &str)] = &[
    (0, "OpenClassesRoot"),
    (1, "OpenCurrentUser"),
    (2, "OpenLocalMachine"),
    (3, "OpenPerformanceData"),
    (4, "OpenUsers"),
    (5, "BaseRegCloseKey"),
    (6, "BaseRegCreateKey"),
    (7, "BaseRegDeleteKey"),
    (8, "BaseRegDeleteValue"),
    (9, "BaseRegEnumKey"),
    (10, "BaseRegEnumValue"),
    (11, "BaseRegFlushKey"),
    (12, "BaseRegGetKeySecurity"),
    (13, "BaseRegLoadKey"),
    (15, "BaseRegOpenKey"),
    (16, "BaseRegQueryInfoKey"),
    (17, "BaseRegQueryValue"),
    (18, "BaseRegReplaceKey"),
    (19, "BaseRegRestoreKey"),
    (20, "BaseRegSaveKey"),
    (21, "BaseRegSetKeySecurity"),
    (22, "BaseRegSetValue"),
    (23, "BaseRegUnLoadKey"),
    (24, "BaseInitiateSystemShutdown"),
    (25, "BaseAbortSystemShutdown"),
    (26, "BaseRegGetVersion"),
    (27, "OpenCurrentConfig"),
    (29, "BaseRegQueryMultipleValues"),
    (30, "BaseInitiateSystemShutdownEx"),
    (31, "BaseRegSaveKeyEx"),
    (32, "OpenPerformanceText"),
    (33, "OpenPerformanceNlsText"),
    (34, "BaseRegQueryMultipleValues2"),
    (35, "BaseRegDeleteKeyEx"),
];

const SRVSVC: &[(u16, &str)] = &[
    (8, "NetrConnectionEnum"),
    (9, "NetrFileEnum"),
    (11, "NetrFileClose"),
    (12, "NetrSessionEnum"),
    (13, "NetrSessionDel"),
    (14, "NetrShareAdd"),
    (15, "NetrShareEnum"),
    (16, "NetrShareGetInfo"),
    (17, "NetrShareSetInfo"),
    (18, "NetrShareDel"),
    (21, "NetrServerGetInfo"),
    (28, "NetrRemoteTOD"),
    (36, "NetrShareEnumSticky"),
];

const EPMAPPER: &[(u16, &str)] = &[
    (0, "ept_insert"),
    (1, "ept_delete"),
    (2, "ept_lookup"),
    (3, "ept_map"),
    (4, "ept_lookup_handle_free"),
    (5, "ept_inq_object"),
    (6, "ept_mgmt_delete"),
];

const NETLOGON: &[(u16, &str)] = &[
    (0, "NetrLogonUasLogon"),
    (1, "NetrLogonUasLogoff"),
    (2, "NetrLogonSamLogon"),
    (3, "NetrLogonSamLogoff"),
    (4, "NetrServerReqChallenge"),
    (5, "NetrServerAuthenticate"),
    (6, "NetrServerPasswordSet"),
    (7, "NetrDatabaseDeltas"),
    (8, "NetrDatabaseSync"),
    (9, "NetrAccountDeltas"),
    (10, "NetrAccountSync"),
    (11, "NetrGetDCName"),
    (12, "NetrLogonControl"),
    (13, "NetrGetAnyDCName"),
    (14, "NetrLogonControl2"),
    (15, "NetrServerAuthenticate2"),
    (16, "NetrDatabaseSync2"),
    (17, "NetrDatabaseRedo"),
    (18, "NetrLogonControl2Ex"),
    (19, "NetrEnumerateTrustedDomains"),
    (20, "DsrGetDcName"),
    (21, "NetrLogonGetCapabilities"),
    (22, "NetrLogonSetServiceBits"),
    (23, "NetrLogonGetTrustRid"),
    (24, "NetrLogonComputeServerDigest"),
    (25, "NetrLogonComputeClientDigest"),
    (26, "NetrServerAuthenticate3"),
    (27, "DsrGetDcNameEx"),
    (28, "DsrGetSiteName"),
    (29, "NetrLogonGetDomainInfo"),
    (30, "NetrServerPasswordSet2"),
    (31, "NetrServerPasswordGet"),
    (32, "NetrLogonSendToSam"),
    (33, "DsrAddressToSiteNamesW"),
    (34, "DsrGetDcNameEx2"),
    (35, "NetrLogonGetTimeServiceParentDomain"),
    (36, "NetrEnumerateTrustedDomainsEx"),
    (37, "DsrAddressToSiteNamesExW"),
    (38, "DsrGetDcSiteCoverageW"),
    (39, "NetrLogonSamLogonEx"),
    (40, "DsrEnumerateDomainTrusts"),
    (41, "DsrDeregisterDnsHostRecords"),
    (42, "NetrServerTrustPasswordsGet"),
    (43, "DsrGetForestTrustInformation"),
    (44, "NetrGetForestTrustInformation"),
    (45, "NetrLogonSamLogonWithFlags"),
    (46, "NetrServerGetTrustInfo"),
];

const INTERFACES: &[Interface] = &[
    Interface {
        uuid: "367abb81-9844-35f1-ad32-98f038001003",
        name: "svcctl",
        ops: SVCCTL,
    },
    Interface {
        uuid: "1ff70682-0a51-30e8-076d-740be8cee98b",
        name: "atsvc",
        ops: ATSVC,
    },
    Interface {
        uuid: "86d35949-83c9-4044-b424-db363231fd0c",
        name: "ITaskSchedulerService",
        ops: TASK_SCHEDULER,
    },
    Interface {
        uuid: "f309ad18-d86a-11d0-a075-00c04fb68820",
        name: "IWbemLevel1Login",
        ops: WBEM_LOGIN,
    },
    Interface {
        uuid: "9556dc99-828c-11cf-a37e-00aa003240c7",
        name: "IWbemServices",
        ops: WBEM_SERVICES,
    },
    // MS-DCOM's IRemoteSCMActivator; Wireshark calls it ISystemActivator.
    Interface {
        uuid: "000001a0-0000-0000-c000-000000000046",
        name: "IRemoteSCMActivator",
        ops: REMOTE_SCM_ACTIVATOR,
    },
    Interface {
        uuid: "4d9f4ab8-7d1c-11cf-861e-0020af6e7c57",
        name: "IActivation",
        ops: &[(0, "RemoteActivation")],
    },
    Interface {
        uuid: "99fcfec4-5260-101b-bbcb-00aa0021347a",
        name: "IObjectExporter",
        ops: OXID_RESOLVER,
    },
    Interface {
        uuid: "00000131-0000-0000-c000-000000000046",
        name: "IRemUnknown",
        ops: REM_UNKNOWN,
    },
    Interface {
        uuid: "00000143-0000-0000-c000-000000000046",
        name: "IRemUnknown2",
        ops: REM_UNKNOWN,
    },
    Interface {
        uuid: "00020400-0000-0000-c000-000000000046",
        name: "IDispatch",
        ops: dcom![3 => "GetTypeInfoCount", 4 => "GetTypeInfo", 5 => "GetIDsOfNames", 6 => "Invoke"],
    },
    Interface {
        uuid: "00000001-0000-0000-c000-000000000046",
        name: "IClassFactory",
        ops: dcom![3 => "CreateInstance", 4 => "LockServer"],
    },
    Interface {
        uuid: "e3514235-4b06-11d1-ab04-00c04fc2dcd2",
        name: "drsuapi",
        ops: DRSUAPI,
    },
    Interface {
        uuid: "12345778-1234-abcd-ef00-0123456789ac",
        name: "samr",
        ops: SAMR,
    },
    Interface {
        uuid: "12345778-1234-abcd-ef00-0123456789ab",
        name: "lsarpc",
        ops: LSARPC,
    },
    Interface {
        uuid: "338cd001-2244-31f1-aaaa-900038001003",
        name: "winreg",
        ops: WINREG,
    },
    Interface {
        uuid: "4b324fc8-1670-01d3-1278-5a47bf6ee188",
        name: "srvsvc",
        ops: SRVSVC,
    },
    Interface {
        uuid: "e1af8308-5d1f-11c9-91a4-08002b14a0fa",
        name: "epmapper",
        ops: EPMAPPER,
    },
    Interface {
        uuid: "12345678-1234-abcd-ef00-01234567cffb",
        name: "netlogon",
        ops: NETLOGON,
    },
    Interface {
        uuid: "3919286a-b10c-11d0-9ba8-00c04fd92ef5",
        name: "dssetup",
        ops: DSSETUP,
    },
];

/// MS-DSSP (the domain role a host reports; on the lsarpc pipe).
const DSSETUP: &[(u16, &str)] = &[
    (0, "DsRolerGetPrimaryDomainInformation"),
    (1, "DsRolerDnsNameToFlatName"),
    (2, "DsRolerDcAsDc"),
    (3, "DsRolerDcAsReplica"),
    (4, "DsRolerDemoteDc"),
    (5, "DsRolerGetDcOperationProgress"),
    (6, "DsRolerGetDcOperationResults"),
    (7, "DsRolerCancel"),
    (8, "DsRolerServerSaveStateForUpgrade"),
    (9, "DsRolerUpgradeDownlevelServer"),
    (10, "DsRolerAbortDownlevelServerUpgrade"),
];

/// The short name of the interface with this UUID (text, any case).
pub fn interface_name(uuid: &str) -> Option<&'static str> {
    INTERFACES
        .iter()
        .find(|i| i.uuid.eq_ignore_ascii_case(uuid))
        .map(|i| i.name)
}

/// The name of operation `opnum` of the interface named `endpoint`.
pub fn operation_name(endpoint: &str, opnum: u16) -> Option<&'static str> {
    INTERFACES
        .iter()
        .find(|i| i.name == endpoint)
        .and_then(|i| i.ops.iter().find(|(n, _)| *n == opnum))
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateral_movement_operations_are_named() {
        let svc = interface_name("367ABB81-9844-35F1-AD32-98F038001003");
        assert_eq!(svc, Some("svcctl"));
        assert_eq!(operation_name("svcctl", 12), Some("CreateServiceW"));
        assert_eq!(operation_name("svcctl", 24), Some("CreateServiceA"));
        assert_eq!(operation_name("atsvc", 0), Some("NetrJobAdd"));
        assert_eq!(operation_name("IWbemServices", 24), Some("ExecMethod"));
        assert_eq!(operation_name("drsuapi", 3), Some("DRSGetNCChanges"));
        assert_eq!(operation_name("svcctl", 999), None);
    }

    #[test]
    fn uuids_and_names_are_distinct_and_opnums_sorted() {
        let mut seen = std::collections::BTreeSet::new();
        for i in INTERFACES {
            assert!(seen.insert(i.uuid), "{} twice", i.uuid);
            assert_eq!(i.uuid.len(), 36);
            assert!(i.ops.windows(2).all(|w| w[0].0 < w[1].0), "{}", i.name);
        }
    }
}
