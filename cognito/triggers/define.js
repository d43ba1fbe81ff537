// Biopass edge - DefineAuthChallenge trigger for Amazon Cognito custom authentication.
// The only sequence that earns tokens: SRP_A, PASSWORD_VERIFIER (Cognito checks the
// password itself), then CUSTOM_CHALLENGE answered by Biopass. Fails on a failed password,
// an unknown user, anything out of order, after 3 wrong custom answers, and for any user
// pool but the one the stack was deployed for (its UserPoolId).
'use strict';

const MAX_CUSTOM_ANSWERS = 3;

/** What comes next: 'PASSWORD_VERIFIER', 'CUSTOM_CHALLENGE', 'tokens' or 'fail'. */
function decide(request) {
  if (!request || request.userNotFound === true) return 'fail';
  const [srp, password, ...custom] = Array.isArray(request.session) ? request.session : [];
  if (!srp || srp.challengeName !== 'SRP_A' || srp.challengeResult !== true) return 'fail';
  if (!password) return 'PASSWORD_VERIFIER';
  if (password.challengeName !== 'PASSWORD_VERIFIER' || password.challengeResult !== true) return 'fail';
  if (custom.some((c) => c.challengeName !== 'CUSTOM_CHALLENGE')) return 'fail';
  const last = custom[custom.length - 1];
  if (last && last.challengeResult === true) return 'tokens';
  if (custom.length >= MAX_CUSTOM_ANSWERS) return 'fail';
  return 'CUSTOM_CHALLENGE';
}

exports.decide = decide;

exports.handler = async (event) => {
  const own = process.env.UserPoolId;
  const next = own && event.userPoolId === own ? decide(event.request) : 'fail';
  event.response = event.response || {};
  event.response.issueTokens = next === 'tokens';
  event.response.failAuthentication = next === 'fail';
  if (next === 'PASSWORD_VERIFIER' || next === 'CUSTOM_CHALLENGE') event.response.challengeName = next;
  console.log(JSON.stringify({ trigger: 'define', userPoolId: event.userPoolId, next }));
  return event;
};
