package org.apache.catalina;

/** Stand-in for Tomcat's lifecycle states (same constant names). */
public enum LifecycleState {
    NEW, INITIALIZING, INITIALIZED, STARTING_PREP, STARTING, STARTED,
    STOPPING_PREP, STOPPING, STOPPED, DESTROYING, DESTROYED, FAILED
}
