import { LightningElement, wire } from 'lwc';
import STATUS from '@salesforce/schema/Invoice__c.Status__c';
import tiered from '@salesforce/apex/AccountService.tiered';
export default class InvoiceList extends LightningElement {}
