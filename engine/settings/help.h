/* help.h: what the settings page (shared/spec/amazon-seller-settings.txt) calls each
 * setting and the help it gives beside it, for the dashboard's settings view; settings
 * the page does not have get the engine's own sentence. */
#ifndef SB_SETTINGS_HELP_H
#define SB_SETTINGS_HELP_H

/* The page's label of setting name ("Get Stock Levels From"), or NULL when the page has
 * no such setting (then sb_setting_def.label says what it is). */
const char *sb_settings_page_label(const char *name);
/* The help text shown beside the option, or NULL when there is none. */
const char *sb_settings_help(const char *name);

#endif
