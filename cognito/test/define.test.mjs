// DefineAuthChallenge on the AWS-documented event: every sequence of the custom flow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { define, defineEvent, SRP_A, PASSWORD_OK, PASSWORD_WRONG, custom, POOL } from './fake.mjs';

// The stack's own user pool (the template sets it from the UserPoolId parameter).
process.env.UserPoolId = POOL;

async function next(session, options) {
  const event = await define.handler(defineEvent(session, options));
  const { challengeName, issueTokens, failAuthentication } = event.response;
  assert.equal(typeof issueTokens, 'boolean');
  assert.equal(typeof failAuthentication, 'boolean');
  if (failAuthentication) {
    assert.equal(issueTokens, false);
    return 'fail';
  }
  if (issueTokens) return 'tokens';
  return challengeName;
}

test('SRP_A is followed by the password verifier', async () => {
  assert.equal(await next([SRP_A]), 'PASSWORD_VERIFIER');
});

test('a verified password is followed by the Biopass challenge', async () => {
  assert.equal(await next([SRP_A, PASSWORD_OK]), 'CUSTOM_CHALLENGE');
});

test('a correct Biopass answer issues tokens', async () => {
  assert.equal(await next([SRP_A, PASSWORD_OK, custom(true)]), 'tokens');
});

test('a failed password fails the sign-in', async () => {
  assert.equal(await next([SRP_A, PASSWORD_WRONG]), 'fail');
});

test('an unknown user fails at once, whatever the session says', async () => {
  assert.equal(await next([SRP_A], { userNotFound: true }), 'fail');
  assert.equal(await next([SRP_A, PASSWORD_OK], { userNotFound: true }), 'fail');
  assert.equal(await next([SRP_A, PASSWORD_OK, custom(true)], { userNotFound: true }), 'fail');
});

test('wrong answers get a new challenge until the third', async () => {
  assert.equal(await next([SRP_A, PASSWORD_OK, custom(false)]), 'CUSTOM_CHALLENGE');
  assert.equal(await next([SRP_A, PASSWORD_OK, custom(false), custom(false)]), 'CUSTOM_CHALLENGE');
  assert.equal(await next([SRP_A, PASSWORD_OK, custom(false), custom(false), custom(false)]), 'fail');
});

test('a correct answer after wrong ones still issues tokens', async () => {
  assert.equal(await next([SRP_A, PASSWORD_OK, custom(false), custom(true)]), 'tokens');
  assert.equal(await next([SRP_A, PASSWORD_OK, custom(false), custom(false), custom(true)]), 'tokens');
});

test('Biopass cannot replace the password: no SRP, or a custom challenge before it, fails', async () => {
  assert.equal(await next([]), 'fail');
  assert.equal(await next([custom(true)]), 'fail');
  assert.equal(await next([SRP_A, custom(true)]), 'fail');
  assert.equal(await next([{ ...SRP_A, challengeResult: false }]), 'fail');
  assert.equal(await next([PASSWORD_OK, custom(true)]), 'fail');
});

test('other challenges in the session fail the sign-in', async () => {
  const sms = { challengeName: 'SMS_MFA', challengeResult: true, challengeMetadata: null };
  assert.equal(await next([SRP_A, PASSWORD_OK, sms]), 'fail');
  assert.equal(await next([SRP_A, PASSWORD_OK, sms, custom(true)]), 'fail');
});

test('the event is answered in place, as Cognito expects', async () => {
  const event = defineEvent([SRP_A]);
  const answered = await define.handler(event);
  assert.equal(answered.userName, event.userName);
  assert.deepEqual(answered.response, { challengeName: 'PASSWORD_VERIFIER', issueTokens: false, failAuthentication: false });
});

test('another user pool than the stack\'s own, or none configured, never gets tokens', async () => {
  const other = { ...defineEvent([SRP_A, PASSWORD_OK, custom(true)]), userPoolId: 'eu-west-1_Other' };
  assert.equal((await define.handler(other)).response.failAuthentication, true);
  delete process.env.UserPoolId;
  try {
    assert.equal(await next([SRP_A, PASSWORD_OK, custom(true)]), 'fail');
  } finally {
    process.env.UserPoolId = POOL;
  }
});
