package demo

// The demo's Salesforce app: subscriptions and their renewals, in SFDX
// source format. Production and UAT run appFiles; the developer's org
// also has devChanges, the work in progress a release will carry.

const meta = `<?xml version="1.0" encoding="UTF-8"?>
`

var appFiles = map[string]string{
	"sfdx-project.json": `{"packageDirectories":[{"path":"force-app","default":true}],"sourceApiVersion":"62.0"}
`,
	"force-app/main/default/objects/Subscription__c/Subscription__c.object-meta.xml": meta + `<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Subscription</label>
    <pluralLabel>Subscriptions</pluralLabel>
    <nameField>
        <label>Subscription Name</label>
        <type>Text</type>
    </nameField>
    <deploymentStatus>Deployed</deploymentStatus>
    <sharingModel>ReadWrite</sharingModel>
</CustomObject>
`,
	"force-app/main/default/objects/Subscription__c/fields/Plan__c.field-meta.xml": meta + `<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
    <fullName>Plan__c</fullName>
    <label>Plan</label>
    <type>Text</type>
    <length>40</length>
</CustomField>
`,
	"force-app/main/default/objects/Subscription__c/fields/Seats__c.field-meta.xml": meta + `<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
    <fullName>Seats__c</fullName>
    <label>Seats</label>
    <type>Number</type>
    <precision>8</precision>
    <scale>0</scale>
</CustomField>
`,
	"force-app/main/default/objects/Subscription__c/fields/Renewal_Date__c.field-meta.xml": meta + `<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
    <fullName>Renewal_Date__c</fullName>
    <label>Renewal Date</label>
    <type>Date</type>
</CustomField>
`,
	"force-app/main/default/objects/Subscription__c/fields/Account__c.field-meta.xml": meta + `<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
    <fullName>Account__c</fullName>
    <label>Account</label>
    <type>Lookup</type>
    <referenceTo>Account</referenceTo>
    <relationshipName>Subscriptions</relationshipName>
</CustomField>
`,
	"force-app/main/default/classes/RenewalService.cls": `public with sharing class RenewalService {
    // Subscriptions renewing within the next days, soonest first.
    public static List<Subscription__c> dueWithin(Integer days) {
        Date until = Date.today().addDays(days);
        return [SELECT Id, Name, Plan__c, Seats__c, Renewal_Date__c FROM Subscription__c
                WHERE Renewal_Date__c <= :until ORDER BY Renewal_Date__c];
    }
}
`,
	"force-app/main/default/classes/RenewalService.cls-meta.xml": meta + `<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>62.0</apiVersion>
    <status>Active</status>
</ApexClass>
`,
	"force-app/main/default/classes/RenewalServiceTest.cls": `@isTest
private class RenewalServiceTest {
    @isTest static void findsRenewalsDueSoon() {
        insert new Subscription__c(Name = 'Acme Pro', Plan__c = 'Pro', Seats__c = 25, Renewal_Date__c = Date.today().addDays(10));
        System.assertEquals(1, RenewalService.dueWithin(30).size());
    }
}
`,
	"force-app/main/default/classes/RenewalServiceTest.cls-meta.xml": meta + `<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>62.0</apiVersion>
    <status>Active</status>
</ApexClass>
`,
	"force-app/main/default/layouts/Subscription__c-Subscription Layout.layout-meta.xml": meta + `<Layout xmlns="http://soap.sforce.com/2006/04/metadata">
    <layoutSections>
        <label>Information</label>
        <style>TwoColumnsTopToBottom</style>
        <layoutColumns>
            <layoutItems><behavior>Required</behavior><field>Name</field></layoutItems>
            <layoutItems><behavior>Edit</behavior><field>Plan__c</field></layoutItems>
            <layoutItems><behavior>Edit</behavior><field>Seats__c</field></layoutItems>
        </layoutColumns>
        <layoutColumns>
            <layoutItems><behavior>Edit</behavior><field>Renewal_Date__c</field></layoutItems>
            <layoutItems><behavior>Edit</behavior><field>Account__c</field></layoutItems>
        </layoutColumns>
    </layoutSections>
</Layout>
`,
	"force-app/main/default/permissionsets/Subscription_Manager.permissionset-meta.xml": meta + `<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Subscription Manager</label>
    <hasActivationRequired>false</hasActivationRequired>
    <fieldPermissions><editable>true</editable><field>Subscription__c.Plan__c</field><readable>true</readable></fieldPermissions>
    <fieldPermissions><editable>true</editable><field>Subscription__c.Seats__c</field><readable>true</readable></fieldPermissions>
    <fieldPermissions><editable>true</editable><field>Subscription__c.Renewal_Date__c</field><readable>true</readable></fieldPermissions>
    <objectPermissions>
        <allowCreate>true</allowCreate><allowDelete>false</allowDelete><allowEdit>true</allowEdit><allowRead>true</allowRead>
        <modifyAllRecords>false</modifyAllRecords><object>Subscription__c</object><viewAllRecords>false</viewAllRecords>
    </objectPermissions>
</PermissionSet>
`,
	"force-app/main/default/flows/Renewal_Reminder.flow-meta.xml": meta + `<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>62.0</apiVersion>
    <label>Renewal Reminder</label>
    <processType>AutoLaunchedFlow</processType>
    <status>Active</status>
    <start>
        <locationX>50</locationX>
        <locationY>0</locationY>
        <object>Subscription__c</object>
        <recordTriggerType>Update</recordTriggerType>
        <triggerType>RecordAfterSave</triggerType>
    </start>
</Flow>
`,
	"force-app/main/default/lwc/renewalBadge/renewalBadge.js": `import { LightningElement, api } from 'lwc';

export default class RenewalBadge extends LightningElement {
    @api renewalDate;
    get daysLeft() {
        const ms = new Date(this.renewalDate) - new Date();
        return Math.ceil(ms / 86400000);
    }
}
`,
	"force-app/main/default/lwc/renewalBadge/renewalBadge.html": `<template>
    <lightning-badge label={daysLeft}></lightning-badge>
</template>
`,
	"force-app/main/default/lwc/renewalBadge/renewalBadge.js-meta.xml": meta + `<LightningComponentBundle xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>62.0</apiVersion>
    <isExposed>true</isExposed>
    <targets><target>lightning__RecordPage</target></targets>
</LightningComponentBundle>
`,
}

// devChanges is the change under way in the developer's org: a churn
// risk score on subscriptions, used by the renewal service.
var devChanges = map[string]string{
	"force-app/main/default/objects/Subscription__c/fields/Churn_Risk__c.field-meta.xml": meta + `<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
    <fullName>Churn_Risk__c</fullName>
    <label>Churn Risk</label>
    <type>Percent</type>
    <precision>5</precision>
    <scale>2</scale>
</CustomField>
`,
	"force-app/main/default/classes/RenewalService.cls": `public with sharing class RenewalService {
    // Subscriptions renewing within the next days, riskiest first.
    public static List<Subscription__c> dueWithin(Integer days) {
        Date until = Date.today().addDays(days);
        return [SELECT Id, Name, Plan__c, Seats__c, Renewal_Date__c, Churn_Risk__c FROM Subscription__c
                WHERE Renewal_Date__c <= :until ORDER BY Churn_Risk__c DESC NULLS LAST, Renewal_Date__c];
    }
}
`,
}
