import { describe, expect, it } from 'vitest';
import { normaliseEmailjsPayload } from './emailjs.js';

const json = (params: Record<string, unknown>, envelope: Record<string, unknown> = {}) =>
  normaliseEmailjsPayload({ ...envelope, params, paramPrefix: 'template_params.' });

describe('normaliseEmailjsPayload', () => {
  it('maps common EmailJS template names onto a lead and keeps unknown fields', () => {
    const result = json(
      {
        from_name: ' Ann Example ',
        from_email: 'Ann@Example.com',
        reply_to: 'Ann@Example.com',
        phone: '0412 345 678',
        message: 'Quote please',
        address: '1 Sun St',
        zip: '2000',
        electricity_bill: '$1,250.50 / month',
        roof: 'Colorbond',
        homeowner: 'Yes',
        preferred_time: 'mornings',
        accessToken: 'private-key',
        'g-recaptcha-response': 'token',
      },
      { service_id: 'service_x', template_id: 'template_y', user_id: 'public_z' },
    );
    expect(result).toEqual({
      ok: true,
      value: {
        service_id: 'service_x',
        template_id: 'template_y',
        user_id: 'public_z',
        lead: {
          name: 'Ann Example',
          email: 'ann@example.com',
          phone: '0412 345 678',
          message: 'Quote please',
          address: '1 Sun St',
          postcode: '2000',
          monthly_bill: 1250.5,
          roof_type: 'metal',
          homeowner: true,
        },
        extra: { preferred_time: 'mornings' },
      },
    });
  });

  it('joins first and last name, reads JSON numbers and booleans, and maps unknown roofs to other', () => {
    const result = json({
      first_name: 'Bo',
      last_name: 'Li',
      email: 'bo@x.io',
      bill: 300,
      owner: false,
      roof: 'thatch',
    });
    expect(result).toMatchObject({
      ok: true,
      value: { lead: { name: 'Bo Li', monthly_bill: 300, homeowner: false, roof_type: 'other' } },
    });
  });

  it('names the field as sent for each problem', () => {
    const noContact = json({ from_name: 'Ann' });
    expect(noContact).toMatchObject({
      ok: false,
      reason: 'invalid',
      issues: [{ field: 'template_params.from_email' }],
    });
    const badEmail = json({ from_name: 'Ann', user_email: 'not-an-email' });
    expect(badEmail).toMatchObject({ ok: false, issues: [{ field: 'template_params.user_email' }] });
    const noName = json({ email: 'a@b.co' });
    expect(noName).toMatchObject({ ok: false, issues: [{ field: 'template_params.from_name' }] });
    const owner = normaliseEmailjsPayload({
      params: { name: 'Ann', email: 'a@b.co', homeowner: 'maybe', power_bill: 'lots' },
      paramPrefix: '',
    });
    expect(owner).toMatchObject({ ok: false, issues: [{ field: 'power_bill' }, { field: 'homeowner' }] });
    expect(json({ from_name: 'Ann', email: 'a@b.co', nested: { a: 1 } })).toMatchObject({
      ok: false,
      issues: [{ field: 'template_params.nested' }],
    });
  });

  it('rejects a submission whose honeypot is filled, and ignores an empty one', () => {
    expect(json({ from_name: 'Ann', email: 'a@b.co', _gotcha: 'http://spam' })).toEqual({
      ok: false,
      reason: 'honeypot',
      field: 'template_params._gotcha',
    });
    expect(json({ from_name: 'Ann', email: 'a@b.co', _gotcha: '' })).toMatchObject({
      ok: true,
      value: { extra: {} },
    });
  });
});
