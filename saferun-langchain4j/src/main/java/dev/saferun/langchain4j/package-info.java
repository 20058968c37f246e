/**
 * SafeRun for LangChain4j. {@link dev.saferun.langchain4j.SafeRunLangChain4j} is the one entry
 * point: it guards tool executors, builds a tool provider that hides and enforces, and installs
 * what an AI Service needs.
 */
package dev.saferun.langchain4j;
