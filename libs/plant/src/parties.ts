import { MATERIALS, type Material } from './materials.js';
import { hashString, unit } from './random.js';

/**
 * The business partners the ERP and SAP stand-ins share: customers (Oracle EBS, HZ_PARTIES and
 * HZ_CUST_ACCOUNTS) and suppliers (SAP vendors, and AP_SUPPLIERS in EBS). Names, e-mails and phones
 * are personal data: the source schemas declare them so that landing can encrypt them.
 *
 * Fixed by construction (no seed): master data is the same in every run, so that a customer id in
 * an order always resolves, whatever the seed of the transactions.
 */

export interface Customer {
  /** HZ_PARTIES.PARTY_ID. */
  partyId: number;
  /** HZ_CUST_ACCOUNTS.CUST_ACCOUNT_ID. */
  custAccountId: number;
  accountNumber: string;
  /** The company. */
  name: string;
  /** The buyer we deal with: personal data. */
  contactName: string;
  email: string;
  phone: string;
  country: string;
  currency: 'EUR' | 'USD' | 'GBP' | 'CHF';
}

export interface Supplier {
  /** SAP vendor number (LIFNR, CHAR10, ALPHA-padded). */
  vendor: string;
  /** AP_SUPPLIERS.VENDOR_ID on the EBS side. */
  vendorId: number;
  name: string;
  contactName: string;
  email: string;
  phone: string;
  country: string;
  currency: 'EUR' | 'USD' | 'GBP' | 'CHF';
  /** Promised lead time, days from order to delivery. */
  leadTimeDays: number;
}

/** What a material costs to buy, and how much the warehouse keeps of it. */
export interface MaterialSupply {
  material: Material;
  supplier: Supplier;
  /** Purchase price per piece, in the supplier's currency. */
  unitPrice: number;
  /** The stock below which the warehouse must reorder (MIN_MINMAX_QUANTITY in EBS). */
  minStock: number;
  maxStock: number;
}

const FIRST = ['Anna', 'Lukas', 'Marie', 'Jonas', 'Sophie', 'Felix', 'Lea', 'Paul', 'Emma', 'Leon'];
const LAST = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', "O'Brien", 'Wagner'];
const COMPANIES = [
  'Alpenstahl',
  'Donau Antriebe',
  'Isar Fördertechnik',
  'Lech Hydraulik',
  'Nordwerk',
  'Rheinmetallbau',
  'Südkran',
  'Voralpen Robotik',
];
const FORMS = ['GmbH', 'AG', 'GmbH & Co. KG', 'SE'];
const COUNTRIES = [
  ['DE', 'EUR', '+49'],
  ['AT', 'EUR', '+43'],
  ['CH', 'CHF', '+41'],
  ['GB', 'GBP', '+44'],
  ['US', 'USD', '+1'],
] as const;

const pick = <T>(items: readonly T[], stream: string, index: number): T =>
  items[Math.floor(unit(0, hashString(stream), index) * items.length)]!;

const slug = (text: string) =>
  text
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '');

function person(stream: string, index: number, company: string, countryIndex: number) {
  const first = pick(FIRST, `${stream}.first`, index);
  const last = pick(LAST, `${stream}.last`, index);
  const [country, currency, dial] = COUNTRIES[countryIndex]!;
  const digits = String(Math.floor(unit(0, hashString(`${stream}.phone`), index) * 1e8)).padStart(8, '0');
  return {
    contactName: `${first} ${last}`,
    email: `${slug(first)}.${slug(last)}@${slug(company)}.example`,
    phone: `${dial} ${digits.slice(0, 3)} ${digits.slice(3)}`,
    country,
    currency,
  };
}

export const CUSTOMERS: readonly Customer[] = Array.from({ length: 40 }, (_, i) => {
  const name = `${COMPANIES[i % COMPANIES.length]} ${FORMS[Math.floor(i / COMPANIES.length) % FORMS.length]}`;
  const countryIndex = Math.floor(unit(0, hashString('customer.country'), i) * COUNTRIES.length);
  return {
    partyId: 10_000 + i,
    custAccountId: 20_000 + i,
    accountNumber: `C${String(1001 + i)}`,
    name: i >= COMPANIES.length * FORMS.length ? `${name} ${i}` : name,
    ...person('customer', i, name, countryIndex),
  };
});

export const SUPPLIERS: readonly Supplier[] = Array.from({ length: 12 }, (_, i) => {
  const name = `${['Bayern', 'Franken', 'Schwaben', 'Tirol'][i % 4]} ${['Stahlhandel', 'Gussteile', 'Lacke', 'Normteile', 'Elektrik', 'Werkzeug'][i % 6]} ${FORMS[i % FORMS.length]}`;
  const countryIndex = i < 8 ? 0 : Math.floor(unit(0, hashString('supplier.country'), i) * COUNTRIES.length);
  return {
    vendor: String(100_000 + i).padStart(10, '0'),
    vendorId: 30_000 + i,
    name,
    leadTimeDays: 3 + Math.floor(unit(0, hashString('supplier.lead'), i) * 18),
    ...person('supplier', i, name, countryIndex),
  };
});

/** Each material is bought from one supplier (its raw part or blank), with a price and stock limits. */
export const MATERIAL_SUPPLY: readonly MaterialSupply[] = MATERIALS.map((material, i) => {
  const supplier = SUPPLIERS[i % SUPPLIERS.length]!;
  const unitPrice = Math.round((2 + material.idealCycleTimeS * 0.35) * 100) / 100;
  const minStock = 50 * Math.max(1, Math.round(3600 / material.idealCycleTimeS / 10));
  return { material, supplier, unitPrice, minStock, maxStock: minStock * 4 };
});

/** EUR per unit of a currency: the FX reference silver converts money with (a fixed reference rate). */
export const FX_TO_EUR: Readonly<Record<Customer['currency'], number>> = {
  EUR: 1,
  USD: 0.92,
  GBP: 1.17,
  CHF: 1.05,
};
