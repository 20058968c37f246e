/** Human approval holds: the request handed to the host and the {@code onPause} callback. */
package dev.saferun.approval;
