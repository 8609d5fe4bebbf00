package org.apache.catalina.loader;

import java.net.URL;
import java.net.URLClassLoader;
import org.apache.catalina.LifecycleState;

/** Stand-in for Tomcat 8+'s WebappClassLoaderBase: a URLClassLoader with a lifecycle state. */
public abstract class WebappClassLoaderBase extends URLClassLoader {
    private volatile LifecycleState state = LifecycleState.NEW;

    protected WebappClassLoaderBase(URL[] urls, ClassLoader parent) {
        super(urls, parent);
    }

    public void start() {
        state = LifecycleState.STARTED;
    }

    /** Undeploy: Tomcat marks the loader stopped and drops its own references to it. */
    public void stop() {
        state = LifecycleState.STOPPED;
    }

    public LifecycleState getState() {
        return state;
    }
}
