/**
 * Small SPIs other modules implement, chiefly {@link dev.saferun.spi.StateStore}, where counters
 * live (in memory, or shared across replicas).
 */
package dev.saferun.spi;
