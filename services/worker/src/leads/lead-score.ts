import type { ROOF_TYPES } from '@solar-tasks/contract';

/** The lead fields scoring looks at. */
export interface ScorableLead {
  email?: string | undefined;
  phone?: string | undefined;
  address?: string | undefined;
  postcode?: string | undefined;
  monthly_bill?: number | undefined;
  roof_type?: (typeof ROOF_TYPES)[number] | undefined;
  homeowner?: boolean | undefined;
  message?: string | undefined;
}

/** A lead's score, 0–100, its grade and how it was reached. */
export interface LeadScore {
  score: number;
  grade: 'hot' | 'warm' | 'cold';
  breakdown: { bill: number; homeowner: number; roof: number; completeness: number };
}

/** Monthly bill thresholds (account currency) and their points: a bigger bill means a bigger, faster-paying system. */
const BILL_POINTS: readonly [min: number, points: number][] = [
  [400, 40],
  [250, 30],
  [150, 20],
  [80, 10],
];

/** Roofs panels mount on without special work score highest. */
const ROOF_POINTS: Record<(typeof ROOF_TYPES)[number], number> = {
  tile: 15,
  metal: 15,
  shingle: 15,
  flat: 10,
  slate: 10,
  other: 5,
};

/**
 * Scores a solar lead, 0–100 (the rule is documented in docs/leads.md):
 *
 * - **bill** (0–40): monthly electricity bill ≥ 400 → 40, ≥ 250 → 30,
 *   ≥ 150 → 20, ≥ 80 → 10, lower or unknown → 0.
 * - **homeowner** (0–25): owns the home → 25; renting or unknown → 0
 *   (a tenant cannot sign for a roof installation).
 * - **roof** (0–15): tile, metal or shingle → 15; flat or slate → 10
 *   (tilt frames, fragile slates); other → 5; unknown → 0.
 * - **completeness** (0–20): 5 each for an email, a phone number, an address
 *   or postcode, and a message.
 *
 * Grade: hot ≥ 70, warm ≥ 40, cold below.
 */
export function scoreLead(lead: ScorableLead): LeadScore {
  const bill =
    lead.monthly_bill === undefined ? 0 : (BILL_POINTS.find(([min]) => lead.monthly_bill! >= min)?.[1] ?? 0);
  const homeowner = lead.homeowner === true ? 25 : 0;
  const roof = lead.roof_type ? ROOF_POINTS[lead.roof_type] : 0;
  const completeness =
    (lead.email ? 5 : 0) +
    (lead.phone ? 5 : 0) +
    (lead.address || lead.postcode ? 5 : 0) +
    (lead.message ? 5 : 0);
  const score = bill + homeowner + roof + completeness;
  return {
    score,
    grade: score >= 70 ? 'hot' : score >= 40 ? 'warm' : 'cold',
    breakdown: { bill, homeowner, roof, completeness },
  };
}
