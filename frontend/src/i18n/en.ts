import type { EventKind } from "../api/types";

/**
 * The English catalogue, the reference for every other one. Messages are ICU MessageFormat:
 * plurals as `{count, plural, one {...} other {...}}`, never assembled by hand.
 * The article's labels ("Set up ...", "Disable ...", "Save Settings") keep its wording.
 */
export const en = {
  "common.ok": "OK",
  "common.cancel": "Cancel",
  "common.close": "Close",
  "common.loading": "Loading…",
  "common.on": "On",
  "common.off": "Off",
  "common.save_settings": "Save Settings",

  "language.en": "English",
  "language.cs": "Čeština",

  "header.skip": "Skip to content",
  "header.nav": "Main",
  "header.sign_out": "Sign out",
  "header.language": "Language",

  "field.username": "Username",
  "field.password": "Password",
  "field.code": "Six-digit code",
  "field.recovery_code": "Recovery code",
  "field.new_password_hint": "At least 8 characters.",

  "unavailable.heading": "We could not load your account",
  "unavailable.retry": "Try again",

  "not_found.heading": "Page not found",
  "not_found.body": "There is nothing here. Go to your <link>Account Settings</link>.",

  "signin.heading": "Log in",
  "signin.submit": "Log in",
  "signin.signed_out": "You have signed out.",
  "signin.registered": "Your account has been created. Please log in.",
  "signin.continue": "Please log in to continue.",
  "signin.new_here": "New here?",
  "signin.create_account": "Create an account",
  "signin.otp_heading": "Two-factor authentication",
  "signin.code_hint": "Open your OTP application and enter the six-digit code it shows for custadmin.",
  "signin.recovery_hint": "One of the recovery codes you saved, like abcde-fghij.",
  "signin.use_recovery": "Use a recovery code instead",
  "signin.start_over": "Start over",

  "signup.heading": "Create an account",
  "signup.username_hint": "3 to 64 letters, digits, dots, dashes or underscores.",
  "signup.email": "Email (optional)",
  "signup.submit": "Create account",
  "signup.have_account": "Already have an account?",
  "signup.check_field": "Please check this field.",

  "account.heading": "Account Settings",

  "details.heading": "Account details",
  "details.email": "Email",
  "details.not_given": "Not given",
  "details.type": "Account type",
  "details.type_customer": "Customer",
  "details.type_support": "Customer support",
  "details.since": "Customer since",

  "twofa.heading": "Two-factor authentication",
  "twofa.on": "Two-factor authentication is on.",
  "twofa.on_since": "Two-factor authentication is on since {date}.",
  "twofa.off": "Two-factor authentication is off. Logging in needs only your username and password.",
  "twofa.codes_left": "You have {count, plural, one {# unused recovery code} other {# unused recovery codes}}.",
  "twofa.few_codes":
    "{count, plural, =0 {You have no recovery codes left.} one {Only # recovery code is left.} other {Only # recovery codes are left.}} Create new ones below, so that you can still log in if you lose your phone.",
  "twofa.enabled": "Two-factor authentication is on. From now on, logging in also asks for the six-digit code.",
  "twofa.disabled": "Two-factor authentication has been disabled. Logging in now needs only your username and password.",
  "twofa.codes_replaced": "Your new recovery codes are active; the old ones no longer work.",

  "enable.checkbox": "Set up two-factor authentication when logging in using a username and password",
  "setup.heading": "Set up your OTP application",
  "setup.scan": "Scan the QR code with your OTP application.",
  "setup.qr_alt": "QR code for adding custadmin to your OTP application",
  "setup.open_app": "Open in authenticator app",
  "setup.manual": "Can't scan it? Enter this key in the application instead:",
  "setup.copy_key": "Copy key",
  "setup.key_copied": "The key is copied to your clipboard.",
  "setup.key_copy_failed": "Copying is not possible here. Please select the key and copy it yourself.",
  "setup.code_hint": "Enter the six-digit code your OTP application now shows.",

  "disable.form": "Disable two-factor authentication",
  "disable.checkbox": "Disable two-factor authentication when logging in with a username and password",
  "disable.confirm_title": "Disable two-factor authentication?",
  "disable.confirm_body":
    "Logging in will then need only your username and password. Press Save Settings to finish; you can set it up again at any time.",
  "disable.tick_first":
    "Nothing to save. To disable two-factor authentication, tick the box above, confirm with OK, then press Save Settings.",

  "regenerate.heading": "Recovery codes",
  "regenerate.explain": "Lost or used up your recovery codes? Create new ones; the old ones then stop working.",
  "regenerate.submit": "Create new recovery codes",
  "regenerate.confirm_title": "Create new recovery codes?",
  "regenerate.confirm_body": "Your current recovery codes will stop working.",

  "codes.heading": "Your recovery codes",
  "codes.explain":
    "If you lose your phone, each of these codes lets you log in once instead of the six-digit code. Keep them somewhere safe: they are shown only this once.",
  "codes.list_label": "Recovery codes",
  "codes.copy": "Copy codes",
  "codes.download": "Download codes",
  "codes.copied": "The recovery codes are copied to your clipboard.",
  "codes.copy_failed": "Copying is not possible here. Please select the codes and copy them yourself.",
  "codes.saved": "I have saved my recovery codes",
  "codes.done": "Done",
  "codes.file_header": "Recovery codes for {username} at {site}, created {date}. Each code works once.",

  "reauth.heading": "Confirm it's you",
  "reauth.explain_codes":
    "You logged in a while ago. To protect your account, please confirm it's you with a six-digit code from your OTP application or one of your recovery codes.",
  "reauth.explain_password":
    "You logged in a while ago. To protect your account, please enter your password to confirm it's you.",
  "reauth.confirm_with": "Confirm with",
  "reauth.confirm": "Confirm",
  "reauth.code_hint": "The six-digit code your OTP application shows now.",
  "reauth.recovery_code_hint": "One of the recovery codes you saved, like abcde-fghij. It works only once.",

  "password.heading": "Change password",
  "password.current": "Current password",
  "password.new": "New password",
  "password.submit": "Change password",
  "password.changed": "Your password has been changed. Other devices have been signed out.",

  "events.heading": "Recent security events",
  "events.none": "No events yet.",

  "support.lost_access":
    "If you have lost access to your OTP application and your recovery codes, please contact our customer support: {contact}. After checking who you are, they can switch off two-factor authentication for you.",
  "support.lost_access_no_contact":
    "If you have lost access to your OTP application and your recovery codes, please contact our customer support. After checking who you are, they can switch off two-factor authentication for you.",
  "support.heading": "Support desk",
  "support.first_heading": "Switch on two-factor authentication first",
  "support.first_explain":
    "The support desk lets you change other people's accounts, so it opens only when you log in with two-factor authentication: your password and a six-digit code from an OTP application on your phone.",
  "support.first_step1": "In Account Settings, tick \"{label}\", scan the QR code and save the code.",
  "support.first_step2": "Keep your recovery codes somewhere safe.",
  "support.first_step3": "Come back to the support desk.",
  "support.first_link": "Go to Account Settings to switch on two-factor authentication",
  "support.intro":
    "Find a customer, check who they are against their recent security events, then reset their two-factor authentication or unlock their sign-in.",
  "support.search_label": "Search customers",
  "support.search_hint": "Part of the username or email.",
  "support.search": "Search",
  "support.no_results": "No customers found.",
  "support.results": "Customers ({count, number})",
  "support.no_email": "No email",
  "support.twofa": "Two-factor",
  "support.twofa_on": "Two-factor: on",
  "support.twofa_off": "Two-factor: off",
  "support.open": "Open {name}",
  "support.customer_heading": "Customer {name}",
  "support.compare_events": "Compare them with what the customer tells you before you change anything.",
  "support.reset_open": "Reset two-factor for {name}",
  "support.unlock_open": "Unlock sign-in for {name}",
  "support.reason": "Reason (required)",
  "support.confirm_title": "{title}?",
  "support.reset_title": "Reset two-factor authentication for {name}",
  "support.reset_explain": "Only after you have checked who the customer is. They can then log in with their password alone.",
  "support.reset_submit": "Reset two-factor",
  "support.reset_consequence": "Their OTP application and recovery codes will stop working, and the reason is recorded.",
  "support.reset_done": "Two-factor authentication for {name} has been reset.",
  "support.unlock_title": "Unlock sign-in for {name}",
  "support.unlock_explain":
    "For a customer locked out after too many wrong passwords or codes, once you have checked who they are. Their failed attempts are forgotten, so they can log in again at once.",
  "support.unlock_submit": "Unlock sign-in",
  "support.unlock_consequence": "Their failed attempts are cleared, and the reason is recorded.",
  "support.unlock_done": "Sign-in for {name} has been unlocked.",
  "support.limit": "You have reached the limit of 30 resets and unlocks an hour. {advice}",

  "retry.advice": "Please wait {wait} and try again after {time}.",
  "retry.seconds": "{count, plural, one {# second} other {# seconds}}",
  "retry.minutes": "{count, plural, one {# minute} other {# minutes}}",
  "retry.later": "Please try again in a moment.",

  "problem.invalid_credentials": "The username or password is not right. Please check both and try again.",
  "problem.session_ended": "Your session has ended. Please log in again.",
  "problem.invalid_challenge": "This sign-in took too long or was already used. Please log in again.",
  "problem.challenge_exhausted": "Too many wrong codes. Sign in again with your password.",
  "problem.invalid_code": "That code did not work. Check your OTP application and enter the current six-digit code.",
  "problem.invalid_code_format": "Please enter the six digits shown in your OTP application.",
  "problem.invalid_recovery_code_format": "Recovery codes look like abcde-fghij. Please check the code and try again.",
  "problem.invalid_password": "That password is not right.",
  "problem.reauthentication_required": "For your security, please confirm it's you.",
  "problem.forbidden": "You are not allowed to do this.",
  "problem.two_factor_required":
    "The support desk needs two-factor authentication. Please switch it on in Account Settings, then come back.",
  "problem.signup_disabled": "New accounts cannot be created here. Please contact customer support.",
  "problem.username_taken": "This username is already taken. Please choose another one.",
  "problem.two_factor_already_enabled": "Two-factor authentication is already on.",
  "problem.two_factor_not_enabled": "Two-factor authentication is already off.",
  "problem.no_pending_enrollment": "The set-up has expired. Please untick and tick the box again to get a new QR code.",
  "problem.too_many_attempts": "Too many attempts. {advice}",
  "problem.server_busy": "The service is very busy right now. Please try again in a moment.",
  "problem.validation_failed": "Please check the {field}: {detail}.",
  "problem.reload": "Something went wrong with this request. Please reload the page and try again.",
  "problem.payload_too_large": "What you entered is too long.",
  "problem.not_found": "We could not find that.",
  "problem.database_unavailable": "The service is temporarily unavailable. Please try again in a few minutes.",
  "problem.internal_error": "Something went wrong on our side. Please try again later.",
  "problem.network_error": "We could not reach the server. Check your internet connection and try again.",
  "problem.unknown": "Something went wrong. Please try again later.",

  "event.login_succeeded": "Logged in",
  "event.login_failed": "Failed login",
  "event.otp_failed": "Wrong six-digit code",
  "event.two_factor_enabled": "Two-factor authentication set up",
  "event.two_factor_disabled": "Two-factor authentication disabled",
  "event.recovery_code_used": "Recovery code used",
  "event.recovery_codes_regenerated": "New recovery codes created",
  "event.two_factor_reset_by_support": "Two-factor authentication reset by customer support",
  "event.password_changed": "Password changed",
  "event.account_locked": "Account temporarily locked after failed attempts",
  "event.account_unlocked_by_support": "Sign-in unlocked by customer support",
} as const satisfies Record<`event.${EventKind}`, string> & Record<string, string>;

export type MessageId = keyof typeof en;

