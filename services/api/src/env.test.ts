import { describe, expect, it } from 'vitest';
import { loadApiSettings } from './env.js';

describe('API settings for the EmailJS webhook', () => {
  it('reads allowed origins as a list and the per-IP limit with defaults', () => {
    expect(loadApiSettings({})).toMatchObject({
      EMAILJS_ALLOWED_ORIGINS: [],
      EMAILJS_RATE_LIMIT_MAX: 10,
      EMAILJS_RATE_LIMIT_WINDOW: 60,
    });
    expect(
      loadApiSettings({ EMAILJS_ALLOWED_ORIGINS: 'https://www.solar.example/, http://localhost:5173' })
        .EMAILJS_ALLOWED_ORIGINS,
    ).toEqual(['https://www.solar.example', 'http://localhost:5173']);
  });

  it('names a bad origin list or a short secret', () => {
    expect(() => loadApiSettings({ EMAILJS_ALLOWED_ORIGINS: 'www.solar.example' })).toThrow(
      /EMAILJS_ALLOWED_ORIGINS/,
    );
    expect(() => loadApiSettings({ EMAILJS_WEBHOOK_SECRET: 'short' })).toThrow(/EMAILJS_WEBHOOK_SECRET/);
  });
});
