package dev.saferun.springai.autoconfigure;

import dev.saferun.springai.SafeRunSpringAi;
import dev.saferun.springai.SafeRunToolCallback;
import dev.saferun.springai.SafeRunToolCallingManager;
import java.lang.reflect.Method;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.ai.model.tool.ToolCallingManager;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.ToolCallbackProvider;

/**
 * Wraps SafeRun around tool beans as they are created: {@code ToolCallback} beans become
 * {@link SafeRunToolCallback}s, {@code ToolCallbackProvider} beans wrap their tools, and the
 * {@code ToolCallingManager} bean becomes a {@link SafeRunToolCallingManager}.
 *
 * <p>Only beans declared with the interface type are replaced, so an injection point that asks
 * for a concrete class (a {@code FunctionToolCallback}, a {@code MethodToolCallbackProvider})
 * still finds its bean; such tools are wrapped per request by the advisor and the manager
 * instead. MCP providers are never replaced: Spring AI recognises them by class (to list their
 * tools lazily) and refreshes them on {@code McpToolsChangedEvent}; their tools are wrapped per
 * request. Thread-safe.
 */
final class SafeRunToolBeanPostProcessor implements BeanPostProcessor, BeanFactoryAware {
  private static final Logger LOG = LoggerFactory.getLogger(SafeRunToolBeanPostProcessor.class);

  private final ObjectProvider<SafeRunSpringAi> saferun;
  private ConfigurableListableBeanFactory beanFactory;

  SafeRunToolBeanPostProcessor(ObjectProvider<SafeRunSpringAi> saferun) {
    this.saferun = saferun;
  }

  @Override
  public void setBeanFactory(BeanFactory beanFactory) {
    if (beanFactory instanceof ConfigurableListableBeanFactory f) {
      this.beanFactory = f;
    }
  }

  @Override
  public Object postProcessAfterInitialization(Object bean, String beanName)
      throws BeansException {
    if (bean instanceof SafeRunToolCallback || bean instanceof SafeRunToolCallingManager) {
      return bean;
    }
    if (bean instanceof ToolCallingManager m && declaredAsInterface(beanName)) {
      return saferun.getObject().toolCallingManager(m);
    }
    if (bean instanceof ToolCallback t) {
      if (declaredAsInterface(beanName) && !isMcp(t.getClass())) {
        return saferun.getObject().wrap(t);
      }
      LOG.debug("Tool bean '{}' ({}) is not replaced; SafeRun wraps it per request", beanName,
          bean.getClass().getName());
      return bean;
    }
    if (bean instanceof ToolCallbackProvider p && !isMcp(p.getClass())
        && declaredAsInterface(beanName)) {
      return saferun.getObject().wrap(p);
    }
    return bean;
  }

  /** Whether the bean's declared type (factory method return type or class) is an interface. */
  private boolean declaredAsInterface(String beanName) {
    if (beanFactory == null || !beanFactory.containsBeanDefinition(beanName)) {
      return false;
    }
    BeanDefinition bd = beanFactory.getMergedBeanDefinition(beanName);
    if (bd instanceof RootBeanDefinition rbd) {
      Method factory = rbd.getResolvedFactoryMethod();
      if (factory != null) {
        return factory.getReturnType().isInterface();
      }
      if (rbd.hasBeanClass()) {
        return rbd.getBeanClass().isInterface();
      }
    }
    return false;
  }

  private static boolean isMcp(Class<?> type) {
    for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
      if (c.getName().startsWith("org.springframework.ai.mcp.")) {
        return true;
      }
    }
    return false;
  }
}
