// The API's TEMPLATE_VARIABLES (core/src/email.ts), which this app cannot import: the API
// refuses any other placeholder. api/test/console-mirrors.test.ts holds the two lists equal.
export const TEMPLATE_VARIABLES = ['candidate_name', 'assessment_title', 'start_link', 'start_deadline', 'complete_deadline'] as const
