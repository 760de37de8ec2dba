package metadata

// typeTable is Trellis's registry of metadata types, one per line:
//
//	Name  directory  suffix  flags...
//
// "-" means no suffix (bundles and directory-shaped types). Child types are
// indented under their parent and take tag= (the element name in the
// parent's XML) and key= (the element holding the child's name; fullName
// when absent). Flags:
//
//	content      a content file plus a -meta.xml (Apex class, page…)
//	mixed        content that is a file or a folder (static resource, document)
//	bundle       a directory is the component (LWC, Aura, Wave templates)
//	folder=T     lives in folders of folder type T (reports, dashboards…)
//	folderof=T   is the folder type of content type T
//	decomp=K     source format splits it: folderPerType or topLevel
//	strict       must sit in a directory named exactly like its directory
//	nowild       "*" is not allowed in package.xml; name each member
//	wan          "*" and names may be combined in one <types>
//	nodel        the Metadata API cannot delete it (destructive changes refuse it)
//	unordered    the order of top-level elements carries no meaning
//	partial      deleting one file of it is a change of it, not a deletion
//	hidden       not addressable on its own (always deployed within its parent)
//
// Sources: the Metadata API Developer Guide's type list and directory
// table, a real describeMetadata response, and the protocol notes in
// shared/docs/salesforce-protocols.md §9. Deletability and wildcard rules
// come from the guide's "Unsupported Metadata Types" and each type's notes.
const typeTable = `
ApexClass                      classes                        cls                            content wan
ApexComponent                  components                     component                      content
ApexEmailNotifications         apexEmailNotifications         notifications
ApexPage                       pages                          page                           content wan
ApexTestSuite                  testSuites                     testSuite
ApexTrigger                    triggers                       trigger                        content
AccountRelationshipShareRule   accountRelationshipShareRules  accountRelationshipShareRule
ActionLinkGroupTemplate        actionLinkGroupTemplates       actionLinkGroupTemplate
AIApplication                  aiApplications                 ai
AIApplicationConfig            aiApplicationConfigs           aiapplicationconfig
AnalyticSnapshot               analyticSnapshots              snapshot
AppMenu                        appMenus                       appMenu                        nodel
ApprovalProcess                approvalProcesses              approvalProcess
AssignmentRules                assignmentRules                assignmentRules                nodel
  AssignmentRule               assignmentRules                assignmentRule                 tag=assignmentRule
Audience                       audience                       audience
AuraDefinitionBundle           aura                           -                              bundle strict partial
AuthProvider                   authproviders                  authprovider
AutoResponseRules              autoResponseRules              autoResponseRules              nodel
  AutoResponseRule             autoResponseRules              autoResponseRule               tag=autoResponseRule
BlacklistedConsumer            blacklistedConsumers           blacklistedConsumer
Bot                            bots                           bot                            decomp=topLevel strict
  BotVersion                   botVersions                    botVersion                     tag=botVersions
BrandingSet                    brandingSets                   brandingSet
BriefcaseDefinition            briefcaseDefinitions           briefcaseDefinition
CallCenter                     callCenters                    callCenter                     wan
CampaignInfluenceModel         campaignInfluenceModels        campaignInfluenceModel
CaseSubjectParticle            CaseSubjectParticles           CaseSubjectParticle
Certificate                    certs                          crt                            content
ChannelLayout                  channelLayouts                 channelLayout
ChatterExtension               ChatterExtensions              ChatterExtension
CleanDataService               cleanDataServices              cleanDataService
CommunityTemplateDefinition    communityTemplateDefinitions   communityTemplateDefinition
CommunityThemeDefinition       communityThemeDefinitions      communityThemeDefinition
ConnectedApp                   connectedApps                  connectedApp
ContentAsset                   contentassets                  asset                          content
ContentTypeBundle              contentTypes                   -                              bundle strict partial
ConversationVendorInfo         ConversationVendorInformation  ConversationVendorInformation
CorsWhitelistOrigin            corsWhitelistOrigins           corsWhitelistOrigin
CspTrustedSite                 cspTrustedSites                cspTrustedSite
CustomApplication              applications                   app                            wan
CustomFeedFilter               feedFilters                    feedFilter
CustomHelpMenuSection          customHelpMenuSections         customHelpMenuSection
CustomIndex                    customindex                    indx
CustomLabels                   labels                         labels                         nodel unordered
  CustomLabel                  labels                         label                          tag=labels
CustomMetadata                 customMetadata                 md                             wan
CustomNotificationType         notificationtypes              notiftype
CustomObject                   objects                        object                         decomp=folderPerType strict wan
  BusinessProcess              businessProcesses              businessProcess                tag=businessProcesses
  CompactLayout                compactLayouts                 compactLayout                  tag=compactLayouts
  CustomField                  fields                         field                          tag=fields
  FieldSet                     fieldSets                      fieldSet                       tag=fieldSets
  Index                        indexes                        index                          tag=indexes
  ListView                     listViews                      listView                       tag=listViews
  RecordType                   recordTypes                    recordType                     tag=recordTypes nodel
  SharingReason                sharingReasons                 sharingReason                  tag=sharingReasons
  ValidationRule               validationRules                validationRule                 tag=validationRules
  WebLink                      webLinks                       webLink                        tag=webLinks
CustomObjectTranslation        objectTranslations             objectTranslation              decomp=topLevel strict wan nodel
  CustomFieldTranslation       fields                         fieldTranslation               tag=fields key=name hidden
CustomPageWebLink              weblinks                       weblink
CustomPermission               customPermissions              customPermission
CustomSite                     sites                          site                           strict
CustomTab                      tabs                           tab                            wan
Dashboard                      dashboards                     dashboard                      folder=DashboardFolder nowild
DashboardFolder                dashboards                     dashboardFolder                folderof=Dashboard nowild
DataCategoryGroup              datacategorygroups             datacategorygroup
DataWeaveResource              dw                             dwl                            content
DecisionMatrixDefinition       decisionMatrixDefinition       decisionMatrixDefinition
DelegateGroup                  delegateGroups                 delegateGroup
DigitalExperienceBundle        digitalExperiences             digitalExperience              bundle partial wan
Document                       documents                      document                       mixed folder=DocumentFolder strict nowild
DocumentFolder                 documents                      documentFolder                 folderof=Document nowild
DocumentType                   documentTypes                  documentType
DuplicateRule                  duplicateRules                 duplicateRule
EclairGeoData                  eclair                         geodata                        content
EmailServicesFunction          emailservices                  xml                            strict
EmailTemplate                  email                          email                          content folder=EmailFolder nowild
EmailFolder                    email                          emailFolder                    folderof=EmailTemplate nowild
EmbeddedServiceBranding        EmbeddedServiceBranding        EmbeddedServiceBranding
EmbeddedServiceConfig          EmbeddedServiceConfig          EmbeddedServiceConfig
EmbeddedServiceFlowConfig      EmbeddedServiceFlowConfig      EmbeddedServiceFlowConfig
EmbeddedServiceLiveAgent       EmbeddedServiceLiveAgent       EmbeddedServiceLiveAgent
EntitlementProcess             entitlementProcesses           entitlementProcess
EntitlementTemplate            entitlementTemplates           entitlementTemplate
EscalationRules                escalationRules                escalationRules                nodel
  EscalationRule               escalationRules                escalationRule                 tag=escalationRule
EventDelivery                  eventDeliveries                delivery
EventSubscription              eventSubscriptions             subscription
ExperienceBundle               experiences                    -                              mixed strict partial
ExplainabilityActionDefinition ExplainabilityActionDefinitions explainabilityActionDefinition
ExpressionSetDefinition        expressionSetDefinition        expressionSetDefinition
ExternalClientApplication      externalClientApps             eca
ExternalCredential             externalCredentials            externalCredential
ExternalDataSource             dataSources                    dataSource
ExternalServiceRegistration    externalServiceRegistrations   externalServiceRegistration
ExtlClntAppOauthSettings       extlClntAppOauthSettings       ecaOauth
FeatureParameterBoolean        featureParameters              featureParameterBoolean
FeatureParameterDate           featureParameters              featureParameterDate
FeatureParameterInteger        featureParameters              featureParameterInteger
FieldRestrictionRule           fieldRestrictionRules          rule                           strict
FlexiPage                      flexipages                     flexipage
Flow                           flows                          flow                           wan
FlowCategory                   flowCategories                 flowCategory
FlowDefinition                 flowDefinitions                flowDefinition                 wan
FlowTest                       flowtests                      flowtest
ForecastingType                forecastingTypes               forecastingType
GenAiFunction                  genAiFunctions                 -                              bundle strict partial
GenAiPlanner                   genAiPlanners                  genAiPlanner
GenAiPlugin                    genAiPlugins                   genAiPlugin
GenAiPromptTemplate            genAiPromptTemplates           genAiPromptTemplate
GlobalValueSet                 globalValueSets                globalValueSet                 wan
GlobalValueSetTranslation      globalValueSetTranslations     globalValueSetTranslation      wan nodel
Group                          groups                         group
HomePageComponent              homePageComponents             homePageComponent
HomePageLayout                 homePageLayouts                homePageLayout
IframeWhiteListUrlSettings     iframeWhiteListUrlSettings     iframeWhiteListUrlSettings
InstalledPackage               installedPackages              installedPackage
IntegrationHubSettings         integrationHub                 settings                       strict
IPAddressRange                 IPAddressRanges                IPAddressRange
KeywordList                    moderation                     keywords
Layout                         layouts                        layout                         wan
LeadConvertSettings            LeadConvertSettings            LeadConvertSetting             nodel
LightningComponentBundle       lwc                            -                              bundle strict partial
LightningExperienceTheme       lightningExperienceThemes      lightningExperienceTheme
LightningMessageChannel        messageChannels                messageChannel
LightningOnboardingConfig      lightningOnboardingConfigs     lightningOnboardingConfig
LightningTypeBundle            lightningTypes                 -                              bundle strict partial
LiveChatAgentConfig            liveChatAgentConfigs           liveChatAgentConfig
LiveChatButton                 liveChatButtons                liveChatButton
LiveChatDeployment             liveChatDeployments            liveChatDeployment
ManagedContentType             managedContentTypes            managedContentType
ManagedEventSubscription       managedEventSubscriptions      managedEventSubscription
ManagedTopics                  managedTopics                  managedTopics                  nodel
  ManagedTopic                 managedTopics                  managedTopic                   tag=managedTopic hidden
MatchingRules                  matchingRules                  matchingRule                   nodel
  MatchingRule                 matchingRules                  matchingRule                   tag=matchingRules
MilestoneType                  milestoneTypes                 milestoneType
MlDomain                       mlDomains                      mlDomain
ModerationRule                 moderation                     rule
MutingPermissionSet            mutingpermissionsets           mutingpermissionset            unordered
MyDomainDiscoverableLogin      myDomainDiscoverableLogins     myDomainDiscoverableLogin
NamedCredential                namedCredentials               namedCredential
NavigationMenu                 navigationMenus                navigationMenu
Network                        networks                       network
NotificationTypeConfig         notificationTypeConfig         config                         nodel
OauthCustomScope               oauthcustomscopes              oauthcustomscope
OmniDataTransform              omniDataTransforms             rpt
OmniIntegrationProcedure       omniIntegrationProcedures      oip
OmniScript                     omniScripts                    os
OmniUiCard                     omniUiCard                     ouc
PathAssistant                  pathAssistants                 pathAssistant                  wan
PermissionSet                  permissionsets                 permissionset                  unordered
PermissionSetGroup             permissionsetgroups            permissionsetgroup
PermissionSetLicenseDefinition permissionSetLicenseDefinitions permissionSetLicenseDefinition
PlatformCachePartition         cachePartitions                cachePartition
PlatformEventChannel           platformEventChannels          platformEventChannel
PlatformEventChannelMember     platformEventChannelMembers    platformEventChannelMember
PlatformEventSubscriberConfig  PlatformEventSubscriberConfigs platformEventSubscriberConfig
PostTemplate                   postTemplates                  postTemplate
PresenceDeclineReason          presenceDeclineReasons         presenceDeclineReason
PresenceUserConfig             presenceUserConfigs            presenceUserConfig
Profile                        profiles                       profile                        unordered
ProfilePasswordPolicy          profilePasswordPolicies        profilePasswordPolicy
ProfileSessionSetting          profileSessionSettings         profileSessionSetting
Prompt                         prompts                        prompt
QuickAction                    quickActions                   quickAction                    wan
Queue                          queues                         queue
QueueRoutingConfig             queueRoutingConfigs            queueRoutingConfig
RecommendationStrategy         recommendationStrategies       recommendationStrategy
RecordActionDeployment         recordActionDeployments        deployment
RedirectWhitelistUrl           redirectWhitelistUrls          redirectWhitelistUrl
RemoteSiteSetting              remoteSiteSettings             remoteSite                     wan
Report                         reports                        report                         folder=ReportFolder nowild
ReportFolder                   reports                        reportFolder                   folderof=Report nowild
ReportType                     reportTypes                    reportType                     wan
RestrictionRule                restrictionRules               rule                           strict
Role                           roles                          role
SamlSsoConfig                  samlssoconfigs                 samlssoconfig
SchedulingRule                 SchedulingRules                schedulingRule
Scontrol                       scontrols                      scf                            content
SearchCustomization            searchCustomizations           searchCustomization
ServiceChannel                 serviceChannels                serviceChannel
ServicePresenceStatus          servicePresenceStatuses        servicePresenceStatus
Settings                       settings                       settings                       nodel
SharingRules                   sharingRules                   sharingRules                   wan nodel
  SharingCriteriaRule          sharingCriteriaRules           sharingCriteriaRule            tag=sharingCriteriaRules
  SharingGuestRule             sharingGuestRules              sharingGuestRule               tag=sharingGuestRules
  SharingOwnerRule             sharingOwnerRules              sharingOwnerRule               tag=sharingOwnerRules
  SharingTerritoryRule         sharingTerritoryRules          sharingTerritoryRule           tag=sharingTerritoryRules
SharingSet                     sharingSets                    sharingSet
SiteDotCom                     siteDotComSites                site                           content strict
Skill                          skills                         skill
SlackApp                       slackapps                      slackapp                       content
StandardValueSet               standardValueSets              standardValueSet               nowild nodel
StandardValueSetTranslation    standardValueSetTranslations   standardValueSetTranslation    nodel
StaticResource                 staticresources                resource                       mixed strict
StreamingAppDataConnector      streamingAppDataConnectors     streamingAppDataConnector
SynonymDictionary              synonymDictionaries            synonymDictionary
Territory2                     territories                    territory2
Territory2Model                territory2Models               territory2Model
Territory2Rule                 rules                          territory2Rule
Territory2Type                 territory2Types                territory2Type
TopicsForObjects               topicsForObjects               topicsForObjects
TransactionSecurityPolicy      transactionSecurityPolicies    transactionSecurityPolicy
Translations                   translations                   translation                    nodel unordered
UserCriteria                   userCriteria                   userCriteria
ViewDefinition                 viewdefinitions                view                           content
WaveApplication                wave                           wapp
WaveDashboard                  wave                           wdash                          content
WaveDataflow                   wave                           wdf                            content
WaveDataset                    wave                           wds
WaveLens                       wave                           wlens                          content
WaveRecipe                     wave                           wdpr                           content
WaveTemplateBundle             waveTemplates                  -                              bundle strict partial
WaveXmd                        wave                           xmd
WebStoreTemplate               webStoreTemplates              webStoreTemplate
Workflow                       workflows                      workflow                       wan nodel
  WorkflowAlert                workflowAlerts                 workflowAlert                  tag=alerts
  WorkflowFieldUpdate          workflowFieldUpdates           workflowFieldUpdate            tag=fieldUpdates
  WorkflowFlowAction           workflowFlowActions            workflowFlowAction             tag=flowActions
  WorkflowKnowledgePublish     workflowKnowledgePublishes     workflowKnowledgePublish       tag=knowledgePublishes
  WorkflowOutboundMessage      workflowOutboundMessages       workflowOutboundMessage        tag=outboundMessages
  WorkflowRule                 workflowRules                  workflowRule                   tag=rules
  WorkflowSend                 workflowSends                  workflowSend                   tag=send
  WorkflowTask                 workflowTasks                  workflowTask                   tag=tasks
`

// moreTypes are the rest of the types Salesforce's Metadata API defines
// with a plain shape (one XML file, a content file with its -meta.xml, or
// a bundle directory): industry clouds, Data Cloud, Einstein, OmniStudio
// and the like. Directory and suffix are as Salesforce names them; they
// are here so that a project using them is read completely rather than
// having files skipped as "not metadata".
const moreTypes = `
AIAssistantTemplate            aiAssistantTemplates           aiAssistantTemplate
AIUsecaseDefinition            aiUsecaseDefinitions           aiUsecaseDefinitions
AccessControlPolicy            accessControlPolicies          policy                         content strict
AccountForecastSettings        AccountForecastSettings        accountForecastSetting
AccountPlanObjMeasCalcDef      accountPlanObjMeasCalcDefs     accountPlanObjMeasCalcDef
AccountingFieldMapping         accountingFieldMappings        accountingFieldMapping
AccountingModelConfig          accountingModelConfigs         accountingModelConfig
AcctMgrTargetSettings          acctMgrTargetSettings          acctMgrTargetSetting
ActionLauncherItemDef          ActionLauncherItemDef          actionLauncherItemDef
ActionPlanTemplate             actionPlanTemplates            apt
ActionableEventOrchDef         ActionableEventOrchDefSettings settings                       strict
ActionableEventTypeDef         ActionableEventTypeDefSettings settings                       strict
ActionableListDefinition       actionableListDefinitions      actionableListDefinition
ActivationPlatform             activationPlatforms            activationPlatform
ActnblListKeyPrfmIndDef        actnblListKeyPrfmIndDefs       actnblListKeyPrfmIndDef
AdvAccountForecastSet          AdvAccountForecastSet          advAccountForecastSet
AdvAcctForecastDimSource       AdvAcctForecastDimSource       advAcctForecastDimSource
AdvAcctForecastPeriodGroup     AdvAcctForecastPeriodGroup     advAcctForecastPeriodGroup
AffinityScoreDefinition        affinityScoreDefinitions       affinityScoreDefinition
AiAgentDefinition              aiAgents                       aiAgentDefinition
AiAgentDefinitionVersion       aiAgentDefinitionVersions      -                              bundle partial strict
AiAgentScorerDefinition        aiAgentScorerDefinitions       aiAgentScorerDefinition
AiAuthoringBundle              aiAuthoringBundles             -                              bundle partial strict
AiEvaluationDefinition         aiEvaluationDefinitions        aiEvaluationDefinition
AiResponseFormat               aiResponseFormats              aiResponseFormat
AiSurface                      aiSurfaces                     aiSurface
AiTestingDefinition            aiTestingDefinitions           aiTestingDefinition
AnalyticsDashboard             analyticsDashboards            uadash
AnalyticsVisualization         analyticsVisualizations        uaviz
AnalyticsWorkspace             analyticsWorkspaces            uawork
AnimationRule                  animationRules                 animationRule
ApiNamedQuery                  apiNamedQueries                apiNamedQuery
AppFrameworkTemplateBundle     appTemplates                   -                              bundle partial strict
ApplicationRecordTypeConfig    ApplicationRecordTypeConfig    applicationRecordTypeConfig
ApplicationSubtypeDefinition   ApplicationSubtypeDefinitions  applicationSubtypeDefinition
AppointmentAssignmentPolicy    appointmentAssignmentPolicies  policy                         strict
AppointmentSchedulingPolicy    appointmentSchedulingPolicies  policy                         strict
AssessmentConfiguration        AssessmentConfigurations       assessmentConfiguration
AssessmentQuestion             AssessmentQuestions            aq
AssessmentQuestionSet          AssessmentQuestionSets         aqs
AssistantContextItem           assistantContextItems          assistantContextItem
AssistantDefinition            assistantDefinitions           assistantDefinition
AssistantRecommendationType    assistantRecommendationTypes   assistantRecommendationType
AssistantSkillQuickAction      assistantSkillQuickActions     assistantSkillQuickAction
AssistantSkillSobjectAction    assistantSkillSobjectActions   assistantSkillSobjectAction
AssistantVersion               assistantVersions              assistantVersion
BatchCalcJobDefinition         batchCalcJobDefinitions        batchCalcJobDefinition
BatchProcessJobDefinition      batchProcessJobDefinitions     batchProcessJobDefinition
BenefitAction                  benefitActions                 benefitAction
BldgEnrgyIntensityCnfg         buildingEnergyIntensityConfigs buildingEnergyIntensityConfig
BotBlock                       botBlocks                      botBlock                       strict
BotTemplate                    botTemplates                   botTemplate                    strict
BusinessProcessFeedbackConfiguration businessProcessFeedbackConfigurations businessProcessFeedbackConfiguration
BusinessProcessGroup           businessProcessGroups          businessProcessGroup
BusinessProcessTypeDefinition  BusinessProcessTypeDefinitions businessProcessTypeDefinition
CMSConnectSource               cmsConnectSource               cmsConnectSource
CallCenterRoutingMap           callCenterRoutingMaps          callCenterRoutingMap
CallCoachingMediaProvider      callCoachingMediaProviders     callCoachingMediaProvider
CallCtrAgentFavTrfrDest        callCtrAgentFavTrfrDests       callCtrAgentFavTrfrDest
CanvasMetadata                 Canvases                       Canvas
CareBenefitVerifySettings      careBenefitVerifySettings      careBenefitVerifySettings
CareLimitType                  careLimitTypes                 careLimitType
CareProviderAfflRoleConfig     careProviderAfflRoleConfigs    careProviderAfflRoleConfig
CareProviderSearchConfig       careProviderSearchConfigs      careProviderSearchConfig
CareRequestConfiguration       careRequestConfigurations      careRequestConfiguration
CareSystemFieldMapping         careSystemFieldMappings        careSystemFieldMapping
CatalogedApi                   catalogedApis                  catalogedApi
CatalogedApiArtifactVersionInfo catalogedApiArtifactVersionInfos catalogedApiArtifactVersionInfo
CatalogedApiVersion            catalogedApiVersions           catalogedApiVersion
ChannelObjectLinkingRule       ChannelObjectLinkingRules      ChannelObjectLinkingRule
ChoiceList                     ChoiceList                     ChoiceList
ClauseCatgConfiguration        clauseCatgConfigurations       clauseCatgConfiguration
CnfgItemAttrDef                cnfgItemAttrDefs               cnfgItemAttrDef
CnfgItemAttrPcklstValDef       cnfgItemAttrPcklstValDefs      cnfgItemAttrPcklstValDef
CnfgItemAttrPicklistDef        cnfgItemAttrPicklistDefs       cnfgItemAttrPicklistDef
CnfgItemAttrSetAttr            cnfgItemAttrSetAttrs           cnfgItemAttrSetAttr
CnfgItemAttrSetDef             cnfgItemAttrSetDefs            cnfgItemAttrSetDef
CnfgItemSourceDefinition       cnfgItemSourceDefinitions      cnfgItemSourceDefinition
CnfgItemTypeAttrRelDef         cnfgItemTypeAttrRelDefs        cnfgItemTypeAttrRelDef
CnfgItemTypeDef                cnfgItemTypeDefs               cnfgItemTypeDef
CnfgItemTypeIdentFieldMap      cnfgItemTypeIdentFieldMaps     cnfgItemTypeIdentFieldMap
CnfgItemTypeIdentRule          cnfgItemTypeIdentRules         cnfgItemTypeIdentRule
CnfgItemTypeRelationDef        cnfgItemTypeRelationDefs       cnfgItemTypeRelationDef
CnfgMgmtRelationTypeDef        cnfgMgmtRelationTypeDefs       cnfgMgmtRelationTypeDef
CommandAction                  commandActions                 commandaction
Community                      communities                    community
ComputeExtension               computeExtensions              computeExtension
ContextDefinition              contextDefinitions             contextDefinition
ContextUseCaseMapping          contextUseCaseMappings         contextUseCaseMapping
ContractType                   contractTypes                  contractType
ConvIntelligenceSignalRule     ConvIntelligenceSignalRule     ConvIntelligenceSignalRule
ConversationChannelDefinition  conversationChannelDefinitions ConversationChannelDefinition
ConversationMessageDefinition  conversationMessageDefinitions conversationMessageDefinition
ConversationVendorFieldDef     ConversationVendorFieldDefinitions ConversationVendorFieldDefinition
CustomApplicationComponent     customApplicationComponents    customApplicationComponent
CustomDataType                 datatypes                      datatype
CustomExperience               customExperiences              customExperience
DataCalcInsightTemplate        dataCalcInsightTemplates       dataCalcInsightTemplate
DataConnector                  dataconnectors                 dataconnector
DataConnectorIngestApi         dataConnectorIngestApis        dataConnectorIngestApi
DataConnectorS3                s3DataConnectors               s3DataConnector
DataKitObjectDependency        dataKitObjectDependencies      dataKitObjectDependency
DataKitObjectTemplate          dataKitObjectTemplates         dataKitObjectTemplate
DataMapperDefinition           dataMapperDefinitions          dataMapperDefinition
DataObjectBuildOrgTemplate     dataObjectBuildOrgTemplates    dataObjectBuildOrgTemplate
DataObjectSearchIndexConf      dataObjectSearchIndexConfs     dataObjectSearchIndexConf
DataPackageKitDefinition       dataPackageKitDefinitions      dataPackageKitDefinition
DataPackageKitObject           DataPackageKitObjects          DataPackageKitObject
DataPipeline                   dataPipelines                  dataPipeline                   content
DataSource                     mktDataSources                 dataSource                     strict
DataSourceBundleDefinition     dataSourceBundleDefinitions    dataSourceBundleDefinition
DataSourceObject               dataSourceObjects              dataSourceObject
DataSourceTenant               dataSourceTenants              dataSourceTenant
DataSrcDataModelFieldMap       dataSrcDataModelFieldMaps      dataSrcDataModelFieldMap
DataStreamDefinition           dataStreamDefinitions          dataStreamDefinition
DataStreamTemplate             dataStreamTemplates            dataStreamTemplate
DecisionMatrixDefinitionVersion decisionMatrixVersion          decisionMatrixVersion
DecisionTable                  decisionTables                 decisionTable
DecisionTableDatasetLink       decisionTableDatasetLinks      decisionTableDatasetLink
DgtAssetMgmtProvider           dgtAssetMgmtProviders          dgtAssetMgmtProvider
DgtAssetMgmtPrvdLghtCpnt       dgtAssetMgmtPrvdLghtCpnts      dgtAssetMgmtPrvdLghtCpnt
DigitalExperienceConfig        digitalExperienceConfigs       digitalExperienceConfig
DisclosureDefinition           disclosureDefinitions          disclosureDefinition
DisclosureDefinitionVersion    disclosureDefinitionVersions   disclosureDefinitionVersion
DisclosureType                 disclosureTypes                disclosureType
DiscoveryAIModel               discovery                      model                          content
DiscoveryGoal                  discovery                      goal
DiscoveryStory                 discovery                      story                          content
DocumentCategory               documentCategory               documentCategory
DocumentCategoryDocumentType   documentCategoryDocumentTypes  documentCategoryDocumentType
DocumentGenerationSetting      documentGenerationSettings     documentGenerationSetting
DocumentTemplate               documentTemplates              dt                             content
DynamicTrigger                 dynamicTriggers                dynamicTrigger
DynamicUiCardDefinition        dynamicUiCardDefinitions       dynamicUiCardDefinition
ESignatureConfig               eSignatureConfigs              eSignatureConfig
ESignatureEnvelopeConfig       eSignatureEnvelopeConfigs      eSignatureEnvelopeConfig
EmbeddedServiceFieldService    EmbeddedServiceFieldService    EmbeddedServiceFieldService
EmbeddedServiceMenuSettings    EmbeddedServiceMenuSettings    EmbeddedServiceMenuSettings
EmployeeDataSyncProfile        employeeDataSyncProfiles       employeeDataSyncProfile
EnablementMeasureDefinition    enablementMeasureDefinitions   enablementMeasureDefinition
EnablementProgramDefinition    enablementProgramDefinitions   enablementProgramDefinition
EnblProgramTaskSubCategory     enblProgramTaskSubCategories   enblProgramTaskSubCategory
EntityImplements               entityImplements               entityImplements
EventRelayConfig               eventRelays                    eventRelay
EventType                      eventTypes                     eventType
ExperiencePropertyTypeBundle   experiencePropertyTypeBundles  -                              bundle partial strict
ExplainabilityActionVersion    ExplainabilityActionVersions   explainabilityActionVersion
ExplainabilityMsgTemplate      ExplainabilityMsgTemplates     explainabilityMsgTemplate
ExpressionSetDefinitionVersion expressionSetVersion           expressionSetVersion
ExpressionSetMessageToken      expressionSetMessageToken      expressionSetMessageToken
ExpressionSetObjectAlias       expressionSetObjectAlias       expressionSetObjectAlias
ExternalAIModel                externalAIModels               externalAIModel
ExternalAuthIdentityProvider   externalAuthIdentityProviders  externalAuthIdentityProvider
ExternalDataConnector          externalDataConnectors         externalDataConnector
ExternalDataTranObject         externalDataTranObjects        externalDataTranObject
ExternalDocStorageConfig       externalDocStorageConfigs      externalDocStorageConfig
ExternalStoragePrvdConfig      ExternalStoragePrvdConfig      ExternalStoragePrvdConfigSet
ExtlClntAppCanvasSettings      extlClntAppCanvasSettings      ecaCanvas
ExtlClntAppConfigurablePolicies extlClntAppPolicies            ecaPlcy
ExtlClntAppGlobalOauthSettings extlClntAppGlobalOauthSets     ecaGlblOauth
ExtlClntAppMobileConfigurablePolicies extlClntAppMobilePolicies      ecaMobilePlcy
ExtlClntAppMobileSettings      extlClntAppMobileSettings      ecaMobile
ExtlClntAppNotificationSettings extlClntAppNotifSettings       ecaNotifications
ExtlClntAppOauthConfigurablePolicies extlClntAppOauthPolicies       ecaOauthPlcy
ExtlClntAppOauthSecuritySettings extlClntAppOauthSecuritySettings ecaOauthSecurity
ExtlClntAppPushConfigurablePolicies extlClntAppPushPolicies        ecaPushPlcy
ExtlClntAppPushSettings        extlClntAppPushSettings        ecaPush
ExtlClntAppSamlConfigurablePolicies extlClntAppSamlConfigurablePolicies ecaSamlPlcy
ExtlClntAppSampleConfigurablePolicies extlClntAppSamplePolicies      ecaSmplPlcy
ExtlClntAppSampleSettings      extlClntAppSampleSettings      ecaSmpl
FieldMappingConfig             fieldMappingConfigs            fieldMappingConfig             wan
FieldServiceMobileConfig       fieldServiceMobileConfigs      fieldServiceMobileConfig
FieldServiceMobileExtension    fieldServiceMobileExtensions   fieldServiceMobileExtension
FieldSrcTrgtRelationship       fieldSrcTrgtRelationships      fieldSrcTrgtRelationship
FlexcardDefinition             flexcardDefinitions            flexcardDefinition
FlowValueMap                   flowValueMaps                  flowvaluemap
ForecastingFilter              forecastingFilters             forecastingFilter
ForecastingFilterCondition     forecastingFilterConditions    forecastingFilterCondition
ForecastingGroup               forecastingGroups              forecastingGroup
ForecastingSourceDefinition    forecastingSourceDefinitions   forecastingSourceDefinition
ForecastingTypeSource          forecastingTypeSources         forecastingTypeSource
FuelType                       fuelTypes                      fuelType
FuelTypeSustnUom               fuelTypeSustnUoms              fuelTypeSustnUom
FunctionReference              functions                      function
FundraisingConfig              fundraisingConfigs             fundraisingConfig
GatewayProviderPaymentMethodType gatewayProviderPaymentMethodTypes gatewayProviderPaymentMethodType
GenAiPlannerBundle             genAiPlannerBundles            -                              bundle partial strict
GenAiPromptTemplateActv        genAiPromptTemplateActivations genAiPromptTemplateActivation
GiftEntryGridTemplate          giftEntryGridTemplates         giftEntryGridTemplate
GlobalPicklist                 globalPicklists                globalPicklist
HouseholdNamingConfig          householdNamingConfigs         householdNamingConfig
Icon                           icons                          icon
IdentityVerificationProcDef    IdentityVerificationProcDefs   IdentityVerificationProcDef
IdpConfiguration               idpConfigurations              idpConfiguration
InboundCertificate             inboundCertificates            inboundCertificate             content
InboundNetworkConnection       inboundNetworkConnections      inboundNetworkConnection
IndustriesManufacturingSettings IndustriesManufacturingSettings settings                       strict
InsightType                    insightTypes                   insightType
IntegArtifactDef               integArtifactDefs              -                              bundle partial strict
IntegrationHubSettingsType     integrationHub                 type
IntegrationProcdDefinition     integrationProcdDefinitions    integrationProcdDefinition
IntegrationProviderDef         integrationProviderDefinitions integrationProviderDefinition
InternalDataConnector          internalDataConnectors         internalDataConnector
InternalOrganization           internalOrganizations          internalOrganization
InvocableActionExtension       invocableactionextensions      invocableactionextension
LearningAchievementConfig      learningAchievementConfigs     learningAchievementConfig
LearningItemType               learningItemTypes              learningItemType
Letterhead                     letterhead                     letter                         wan
LicenseDefinition              licenseDefinitions             licenseDefinition
LifeSciConfigCategory          lifeSciConfigCategories        lifeSciConfigCategory
LifeSciConfigRecord            lifeSciConfigRecords           lifeSciConfigRecord
LightningBolt                  lightningBolts                 lightningBolt
LightningOutApp                lightningOutApps               lightningOutApp
LiveChatSensitiveDataRule      liveChatSensitiveDataRule      liveChatSensitiveDataRule
LocationUse                    locationUses                   locationUse
LoyaltyProgramSetup            loyaltyProgramSetups           loyaltyProgramSetup
MLDataDefinition               mlDataDefinitions              mlDataDefinition
MLPredictionDefinition         mlPredictions                  mlPrediction
MLRecommendationDefinition     mlRecommendations              mlRecommendation
MarketSegmentDefinition        marketSegmentDefinitions       marketSegmentDefinition
MarketingAppExtension          marketingappextensions         marketingappextension
MarketingResourceType          marketingResourceType          marketingResourceType
McpServerDefinition            mcpServerDefinitions           mcpServerDefinition
MeetingPlaybookDefinition      meetingPlaybookDefinitions     meetingPlaybookDefinition
MessagingChannel               messagingChannels              messagingChannel
MfgProgramTemplate             MfgProgramTemplate             mfgProgramTemplate
MktCalcInsightObjectDef        mktCalcInsightObjectDefs       mktCalcInsightObjectDef
MktDataConnection              mktDataConnections             mktDataConnection
MktDataConnectionSrcParam      mktDataConnectionSrcParams     mktDataConnectionSrcParam
MktDatalakeSrcKeyQualifier     mktDatalakeSrcKeyQualifier     mktDatalakeSrcKeyQualifier
MobSecurityCertPinConfig       mobSecurityCertPinConfigs      mobSecurityCertPinConfig
MobileApplicationDetail        MobileApplicationDetails       MobileApplicationDetail
MobileSecurityAssignment       mobileSecurityAssignments      mobileSecurityAssignment
MobileSecurityPolicy           mobileSecurityPolicies         mobileSecurityPolicy
MobileSecurityPolicySet        mobileSecurityPolicySets       mobileSecurityPolicySet
NetworkBranding                networkBranding                networkBranding                content
OauthTokenExchangeHandler      oauthtokenexchangehandlers     oauthtokenexchangehandler
ObjIntegProviderDefMapping     objIntegProviderDefMappings    objIntegProviderDefMapping
ObjectHierarchyRelationship    ObjectHierarchyRelationship    settings                       strict
ObjectSourceTargetMap          objectSourceTargetMaps         objectSourceTargetMap
OcrSampleDocument              ocrSampleDocuments             ocrSampleDocument
OcrTemplate                    ocrTemplates                   ocrTemplate
OmniExtTrackingDef             OmniExtTrackingDefs            OmniExtTrackingDef
OmniInteractionAccessConfig    OmniInteractionAccessConfig    omniInteractionAccessConfig
OmniInteractionConfig          OmniInteractionConfig          omniInteractionConfig
OmniSupervisorConfig           omniSupervisorConfigs          omniSupervisorConfig
OmniTrackingGroup              OmniTrackingGroups             OmniTrackingGroup
OmniscriptDefinition           omniscriptDefinitions          omniscriptDefinition
OnboardingDataObjectGroup      onboardingDataObjectGroups     onboardingDataObjectGroup
Orchestration                  iot                            orchestration                  content
OrchestrationContext           iot                            orchestrationContext
OutboundNetworkConnection      outboundNetworkConnections     outboundNetworkConnection
ParticipantRole                participantRoles               participantRole
PartyProfileDataObjectValidityDefinition partyProfileDataObjectValidityDefinitions partyProfileDataObjectValidityDefinition
PaymentGatewayProvider         paymentGatewayProviders        paymentGatewayProvider
PersonAccountOwnerPowerUser    personAccountOwnerPowerUsers   personAccountOwnerPowerUser
PipelineInspMetricConfig       pipelineInspMetricConfigs      pipelineInspMetricConfig
PolicyRuleDefinition           policyRuleDefinitions          policyRuleDefinition
PolicyRuleDefinitionSet        policyRuleDefinitionSets       policyRuleDefinitionSet
Portal                         portals                        portal
PortalDelegablePermissionSet   portalDelegablePermissionSet   portalDelegablePermissionSet
PricingActionParameters        pricingActionParameters        pricingActionParameters
PricingRecipe                  pricingRecipe                  pricingRecipe
ProcedurePlanDefinition        procedurePlanDefinitions       procedurePlanDefinition
ProcessFlowMigration           processflowmigrations          processflowmigration
ProductAttrDisplayConfig       productAttrDisplayConfigs      productAttrDisplayConfig
ProductAttributeSet            productAttributeSets           productAttributeSet
ProductSpecificationRecType    productSpecificationRecTypes   productSpecificationRecType
ProductSpecificationType       productSpecificationTypes      productSpecificationType
ProductSpecificationTypeDefinition productSpecificationTypeDefinitions productSpecificationTypeDefinition
PublicKeyCertificate           PublicKeyCertificate           PublicKeyCertificate
PublicKeyCertificateSet        PublicKeyCertificateSet        PublicKeyCertificateSet
RecAlrtDataSrcExpSetDef        recAlrtDataSrcExpSetDefs       recAlrtDataSrcExpSetDef
RecordAggregationDefinition    RecordAggregationDefinitions   RecordAggregationDefinition
RecordAlertCategory            recordAlertCategories          recordAlertCategory
RecordAlertDataSource          recordAlertDataSources         recordAlertDataSource
RecordAlertTemplate            recordAlertTemplates           recordAlertTemplate
ReferencedDashboard            wave                           refdash
RegisteredExternalService      registeredExternalServices     registeredExternalService
RelatedRecordAssocCriteria     relatedRecordAssocCriteria     relatedRecordAssocCriteria
RelationshipGraphDefinition    relationshipGraphDefinitions   relationshipGraphDefinition
RetrievalSummaryDefinition     RetrievalSummaryDefinitions    RetrievalSummaryDefinition
RuleLibraryDefinition          ruleLibraryDefinition          ruleLibraryDefinition
SalesAgreementSettings         salesAgreementSettings         salesAgreementSetting
SchedulingObjective            SchedulingObjectives           SchedulingObjective
ScoreCategory                  scoreCategories                scoreCategory
SearchCriteriaConfiguration    SearchCriteriaConfigurationSettings SearchCriteriaConfigurationSetting
SearchOrgWideObjectConfig      searchOrgWideConfiguration     searchOrgWideObjectConfig
SearchableObjDataSyncInfo      SearchableObjDataSyncInfoSettings SearchableObjDataSyncInfoSetting
ServiceAISetupDefinition       serviceAISetupDescriptions     serviceAISetupDescription
ServiceAISetupField            serviceAISetupFields           serviceAISetupField
ServiceProcess                 serviceprocess                 serviceprocess
SkillType                      skilltypes                     skilltype
StageAssignment                stageAssignments               stageAssignment
StageDefinition                stageDefinitions               stageDefinition
StnryAssetEnvSrcCnfg           stationaryAssetEnvSourceConfigs stationaryAssetEnvSourceConfig
SustainabilityUom              sustainabilityUoms             sustainabilityUom
SustnUomConversion             sustnUomConversions            sustnUomConversion
SvcCatalogCategory             svcCatalogCategories           category
SvcCatalogFilterCondition      svcCatalogFilterConditions     catalogFilterCondition
SvcCatalogFilterCriteria       svcCatalogFilterCriterias      catalogFilterCriteria
SvcCatalogFulfillmentFlow      svcCatalogFulfillmentFlows     fulfillmentFlow
SvcCatalogItemDef              svcCatalogItems                catalogItem
SvcCatalogItemDefFiltrCrit     svcCatalogItemDefFiltrCrits    catalogItemDefFiltrCrit
TelemetryActionDefStep         TelemetryActionDefSteps        TelemetryActionDefStep
TelemetryActionDefinition      TelemetryActionDefinitions     TelemetryActionDefinition
TelemetryActnDefStepAttr       TelemetryActnDefStepAttrs      TelemetryActnDefStepAttr
TelemetryDefinition            TelemetryDefinitions           TelemetryDefinition
TelemetryDefinitionVersion     TelemetryDefinitionVersions    TelemetryDefinitionVersion
Territory                      territories                    territory
TimeSheetTemplate              timeSheetTemplates             timeSheetTemplate
TimelineObjectDefinition       timelineObjectDefinitions      timelineObjectDefinition
TransactionProcessingType      transactionProcessingTypes     transactionProcessingType
UIObjectRelationConfig         uiObjectRelationConfigs        uiObjectRelationConfig
UiFormatSpecificationSet       uiFormatSpecificationSets      uiFormatSpecificationSet
UiPlugin                       uiplugins                      uiplugin                       content
UiPreviewMessageTabDef         uiPreviewMessageTabDefs        uiPreviewMessageTabDef
UiViewDefinition               uiviews                        uiview                         content
UiWidgetBundle                 uiWidgets                      -                              bundle partial strict
UserAccessPolicy               useraccesspolicies             useraccesspolicy
UserAuthCertificate            userAuthCertificates           userAuthCertificate
UserProfileSearchScope         userProfileSearchScopes        userProfileSearchScope
UserProvisioningConfig         userProvisioningConfigs        userProvisioningConfig
VehicleAssetEmssnSrcCnfg       vehicleAssetEmssnSourceConfigs vehicleAssetEmssnSourceConfig
VirtualVisitConfig             VirtualVisitConfigs            virtualVisitConfig
VisualizationPlugin            visualizationPlugins           visualizationPlugin
WaveAnalyticAssetCollection    wave                           collection
WaveComponent                  wave                           wcomp                          content
WebStoreBundle                 webStoreBundles                webStoreBundle
WorkflowFlowAutomation         workflowFlowAutomations        workflowFlowAutomation
XOrgHub                        xorghubs                       xorghub
`
